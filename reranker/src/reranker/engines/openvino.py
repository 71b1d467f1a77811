"""OpenVINO engines: `openvino` (the default) and `openvino-fp32`, on the exported ONNX file.

They run the same `onnx/model.onnx` as the `onnx` engine (OpenVINO reads ONNX Runtime's fused
BERT operators), with its tokenizer and feed (`onnx.OnnxFileEngine`), on OpenVINO's CPU plugin:
one stream on every core, latency hint, one inference request (the Coalescer's single worker
calls it). `openvino` takes the plugin's own precision for this CPU: bf16 where the CPU has
AVX512_BF16 or AMX (about twice the fp32 speed, within the reduced-precision parity bar of
docs/bench.md), fp32 elsewhere; `openvino-fp32` always computes in fp32. `precision` says
which one this CPU got. Needs only openvino, tokenizers and numpy: no torch, no onnxruntime.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from reranker.engines.onnx import OnnxFileEngine

log = logging.getLogger("reranker.engines.openvino")
PRECISIONS = {"bf16": "bf16", "f32": "fp32", "f16": "fp16"}  # OpenVINO's names -> ours


class OpenVinoEngine(OnnxFileEngine):
    """`openvino`: the export on OpenVINO's CPU plugin at its default precision for this CPU."""

    default_batch_size = 4
    precision_hint: str | None = None  # None: the plugin's own choice

    def _load_runtime(self, path: Path, *, threads: int) -> None:
        import openvino as ov

        core = ov.Core()
        config = {"INFERENCE_NUM_THREADS": threads, "NUM_STREAMS": 1,
                  "PERFORMANCE_HINT": "LATENCY"}
        if self.precision_hint:
            config["INFERENCE_PRECISION_HINT"] = self.precision_hint
        compiled = core.compile_model(core.read_model(str(path)), "CPU", config)
        chosen = compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name()
        self.precision = PRECISIONS.get(chosen, chosen)
        self._request = compiled.create_infer_request()
        self._inputs = [port.get_any_name() for port in compiled.inputs]
        self._output = compiled.output("logits")
        log.info("openvino engine: %s, %s, %d threads", path, self.precision, threads)

    def _run(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        result = self._request.infer({name: feed[name] for name in self._inputs})
        return result[self._output]


class OpenVinoFp32Engine(OpenVinoEngine):
    """`openvino-fp32`: the same, computing in fp32 on every CPU."""

    precision_hint = "f32"
