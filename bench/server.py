"""Starting our own reranker (`python -m reranker`) on a free loopback port for a bench run."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from weaviate_dev.core.process import spawn, stop_group
from weaviate_dev.core.waiting import http_probe, wait_until

READY_TIMEOUT = 300.0


def free_port() -> int:
    """A TCP port that nothing listens on right now (127.0.0.1)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# The start line of an engine that reports its arithmetic (engines/openvino.py, onnx.py).
PRECISION_LINE = re.compile(r"(?:openvino|onnx) engine: .*?, (bf16|fp16|fp32|int8), ")


ENGINE_INFO = re.compile(r'^reranker_engine_info\{[^}]*precision="([a-z0-9]+)"', re.M)


def engine_spec(spec: str) -> tuple[str, dict[str, str]]:
    """`ENGINE[,KEY=VALUE...]` (e.g. `openvino,METRICS=off`): the engine and the extra
    environment our reranker starts with."""
    engine, *pairs = spec.split(",")
    extra = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"--engine {spec}: give ENGINE[,KEY=VALUE...], not {pair!r}")
        extra[key] = value
    return engine, extra


def precision_of_metrics(text: str) -> str | None:
    """What a running reranker computes in, from its GET /metrics engine info (ours); None
    when the text has none (another server, or ours with METRICS=off)."""
    found = ENGINE_INFO.search(text)
    return found[1] if found else None


def precision_in(log: str) -> str:
    """What the engine computes in, as its start line says (fp32 when it says nothing)."""
    found = PRECISION_LINE.search(log)
    return found[1] if found else "fp32"


@contextmanager
def local_reranker(model_dir: Path, engine: str, extra_env: dict[str, str] | None = None):
    """Run our reranker with ENGINE=`engine`; yields (url, pid, precision); stops it on exit.
    The precision is the engine's own report (the openvino engine falls back to fp32 where
    the CPU's reduced precision does not rank like fp32 on the model)."""
    port = free_port()
    env = dict(os.environ, ENGINE=engine, HF_HUB_OFFLINE="1", LOG_LEVEL="info",
               **(extra_env or {}))
    log = tempfile.NamedTemporaryFile(prefix=f"bench-{engine}-", suffix=".log", delete=False)
    argv = [sys.executable, "-m", "reranker", "--model-dir", str(model_dir),
            "--host", "127.0.0.1", "--port", str(port)]
    proc = spawn(argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(http_probe(f"{url}/.well-known/ready"), what=f"reranker ENGINE={engine}",
                   timeout=READY_TIMEOUT, logs=lambda: Path(log.name).read_text()[-3000:])
        yield url, proc.pid, precision_in(Path(log.name).read_text(errors="replace"))
    finally:
        stop_group(proc, timeout=30)
        log.close()
