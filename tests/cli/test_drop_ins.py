"""The original scripts' names, typed verbatim as Weaviate's docs type them, from a checkout."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("argv, expect", [
    (["tools/dev/restart_dev_environment.sh", "--reranker", "--dry-run"],
     "127.0.0.1:8009->8080"),
    (["tools/dev/run_dev_server.sh", "local-reranker-transformers", "--print-env"],
     "RERANKER_INFERENCE_API=http://localhost:8009"),
    (["tools/dev/restart_dev_environment", "--reranker", "--dry-run"], "127.0.0.1:8009->8080"),
    (["tools/dev/run_dev_server", "local-reranker-transformers", "--print-env"],
     "RERANKER_INFERENCE_API=http://localhost:8009"),
])
def test_the_drop_ins_answer_to_the_original_names(argv, expect, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEAVIATE_DEV_")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert expect in result.stdout + result.stderr
