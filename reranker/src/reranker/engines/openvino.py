"""OpenVINO engines: `openvino` (the default) and `openvino-fp32`, on the exported ONNX file.

They run the same `onnx/model.onnx` as the `onnx` engine (OpenVINO reads ONNX Runtime's fused
BERT operators), with its tokenizer and feed (`onnx.OnnxFileEngine`), on OpenVINO's CPU plugin:
the micro-batches of a pass (the Coalescer's single worker) go through a queue of two
requests on two streams, padded to a multiple of 16 tokens, each padded while the ones before
it run and started only if a request still wants it once the queue has room for it.
`openvino` takes the plugin's own precision for this CPU — bf16 where the CPU has AVX512_BF16
or AMX (about twice the fp32 speed), fp16 on ARM, fp32 elsewhere — when it ranks like fp32 on
this model (`precision_check`, at start), fp32 otherwise; `openvino-fp32` always computes in
fp32. `precision` says which one the engine runs. Needs only openvino, tokenizers and numpy: no torch, no onnxruntime.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

from reranker.engines import precision_check
from reranker.engines.onnx import OnnxFileEngine

log = logging.getLogger("reranker.engines.openvino")
PRECISIONS = {"bf16": "bf16", "f32": "fp32", "f16": "fp16"}  # OpenVINO's names -> ours


class OpenVinoEngine(OnnxFileEngine):
    """`openvino`: the export on OpenVINO's CPU plugin at its default precision for this CPU."""

    default_batch_size = 4
    precision_hint: str | None = None  # None: the plugin's own choice
    # Micro-batches padded to a multiple of 16 tokens: the plugin prepares each new input
    # shape once, and far fewer shapes come back (+15 % pairs/s on the benchmark, bf16).
    pad_multiple = 16

    def _load_runtime(self, path: Path, *, threads: int) -> None:
        import openvino as ov

        core = ov.Core()
        # Two streams of one thread each (on two cores or more) and a queue of two requests:
        # while one micro-batch runs, the next is padded and started, and the two streams
        # overlap (+25 % pairs/s over one synchronous request on the benchmark, bf16).
        streams = min(2, threads)
        config = {"INFERENCE_NUM_THREADS": threads, "NUM_STREAMS": streams,
                  "PERFORMANCE_HINT": "THROUGHPUT" if streams > 1 else "LATENCY"}
        if self.precision_hint or self.reduced_precision == "off":
            config["INFERENCE_PRECISION_HINT"] = self.precision_hint or "f32"
        model = core.read_model(str(path))
        compiled = core.compile_model(model, "CPU", config)
        self._inputs = self._checked_inputs([port.get_any_name() for port in compiled.inputs],
                                            path)
        self._output = compiled.output("logits")
        chosen = compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name()
        self.precision = PRECISIONS.get(chosen, chosen)
        if self.precision != "fp32" and self.reduced_precision == "check":
            fp32 = core.compile_model(model, "CPU", {**config, "INFERENCE_PRECISION_HINT": "f32"})
            verdict = precision_check.check(self._probe_scorer(compiled),
                                            self._probe_scorer(fp32))
            if verdict.ranks_alike:
                log.info("%s ranks like fp32 on this model (%s): computing in %s",
                         self.precision, verdict.summary(), self.precision)
            else:
                log.warning("%s does not rank like fp32 on this model (%s): computing in fp32",
                            self.precision, verdict.summary())
                compiled, self.precision = fp32, "fp32"
            del fp32
        self._queue = ov.AsyncInferQueue(compiled, streams)
        log.info("openvino engine: %s (%s), %s, %d threads, %d streams", path, self.graph,
                 self.precision, threads, streams)

    def _probe_scorer(self, compiled):
        """One query's pairs -> their logits, on `compiled`, one micro-batch at a time."""
        request, output = compiled.create_infer_request(), compiled.output("logits")

        def score(pairs) -> np.ndarray:
            encodings = self._tokenizer.encode_batch(pairs)
            logits = []
            for start in range(0, len(encodings), self.batch_size):
                feed = self._feed(encodings[start:start + self.batch_size], self.pad_multiple)
                logits.extend(request.infer(feed)[output][:, 0])
            return np.asarray(logits, dtype=np.float64)

        return score

    def _run(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        [logits] = self._start_all([lambda: feed], lambda _index: True)
        return logits[:, None]

    def _forward_all(self, batches: list[list],
                     wanted: Callable[[int], bool]) -> list[np.ndarray | None]:
        return self._start_all([partial(self._feed, batch, self.pad_multiple)
                                for batch in batches], wanted)

    def _start_all(self, feeds: list[Callable[[], dict[str, np.ndarray]]],
                   wanted: Callable[[int], bool]) -> list[np.ndarray | None]:
        """The first logit of each row of every feed, the feeds kept in flight on the queue:
        each is padded while the ones before it run, and started once a request of the queue
        is free, if `wanted(index)` still says so then (None in its place otherwise)."""
        results: list[np.ndarray | None] = [None] * len(feeds)

        def done(request, index: int) -> None:
            results[index] = request.get_tensor(self._output).data[:, 0].astype(np.float64)

        self._queue.set_callback(done)
        for index, make in enumerate(feeds):
            if not wanted(index):
                continue
            feed = make()
            self._queue.get_idle_request_id()  # until one is free (without the GIL)
            if wanted(index):  # asked again as it would start: dropped meanwhile?
                self._queue.start_async(feed, index)
        self._queue.wait_all()
        return results


class OpenVinoFp32Engine(OpenVinoEngine):
    """`openvino-fp32`: the same, computing in fp32 on every CPU."""

    precision_hint = "f32"
