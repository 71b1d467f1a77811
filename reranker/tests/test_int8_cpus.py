"""The int8 engine gives the same scores on x86 CPUs with and without VNNI.

x86 CPUs without VNNI multiply int8 with an instruction whose int16 sums saturate; with
full-range int8 weights such a CPU ranked the test documents nearly at random (correlation 0.10
with the reference, against 0.86 on a VNNI CPU). `onnx_export.quantize_int8` keeps weights in
7 bits so no sum saturates. The first test checks that on the file itself (any machine); the
second runs the engine a second time under `qemu-x86_64 -cpu Haswell` (AVX2, no VNNI, no
AVX-512: what ONNX Runtime then dispatches to is the saturating kernel) and compares. That one
needs qemu-user (Debian's `qemu-user`); skipped without it on a laptop, failed under CI=true.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys

import numpy as np
import pytest

from reranker.engine import load_engine
from reranker.engines.onnx import onnx_file
from reranker.settings import Settings

QUERY = "who wrote dune"
DOCUMENTS = ["frank herbert wrote dune", "", "cats and dogs", "spice and sand worms " * 6,
             "paris", "the author of dune is frank herbert", "a", "dogs"]
SCORE = """
import json, os, sys
from pathlib import Path
from reranker.engine import load_engine
from reranker.settings import Settings
engine = load_engine(Settings(model_dir=Path(sys.argv[1]), engine="onnx-int8"))
print(json.dumps(engine.score(sys.argv[2], json.loads(sys.argv[3]))), flush=True)
os._exit(0)
"""


def qemu() -> str:
    found = shutil.which("qemu-x86_64")
    if found and platform.machine() == "x86_64":
        return found
    reason = "needs qemu-x86_64 (Debian: apt-get install qemu-user) on an x86_64 host"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason}; CI=true must run this test", pytrace=False)
    pytest.skip(reason)


def test_every_int8_weight_fits_in_seven_bits(tiny_model_dir):
    """255 * 64 * 2 = 32640 fits a saturating int16 pair sum; 255 * 127 * 2 does not."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(onnx_file(tiny_model_dir, "int8")))
    weights = [numpy_helper.to_array(t) for t in model.graph.initializer
               if t.data_type == onnx.TensorProto.INT8 and t.name.endswith("_quantized")]
    assert len(weights) >= 2 * 4  # every layer's MatMuls and fused attention projections
    assert max(int(np.abs(w.astype(np.int32)).max()) for w in weights) <= 64
    assert {node.op_type for node in model.graph.node} >= {"MatMulInteger", "QAttention"}


def test_int8_scores_are_the_same_on_a_cpu_without_vnni(tiny_model_dir):
    emulator = qemu()
    onnx_file(tiny_model_dir, "int8")
    here = load_engine(Settings(model_dir=tiny_model_dir, engine="onnx-int8"))
    expected = np.asarray(here.score(QUERY, DOCUMENTS))
    result = subprocess.run(
        [emulator, "-cpu", "Haswell", sys.executable, "-c", SCORE, str(tiny_model_dir), QUERY,
         json.dumps(DOCUMENTS)], capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert result.returncode == 0, result.stderr[-3000:]
    haswell = np.asarray(json.loads(result.stdout.strip().splitlines()[-1]))
    spread = expected.max() - expected.min()
    assert spread > 0.5  # the scores really differ between documents
    # The same integers; only the fp32 parts around them may round differently.
    np.testing.assert_allclose(haswell, expected, atol=1e-3 * spread)
