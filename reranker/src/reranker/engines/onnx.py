"""ONNX Runtime engines: `onnx` (fp32) and `onnx-int8` (dynamic int8 weights, VNNI on x86).

Need only onnxruntime, tokenizers and numpy — no torch, no transformers — so an image for
them is a fraction of the torch one. The model directory holds the Hugging Face files
(config.json, tokenizer.json) and ``onnx/model.onnx`` / ``onnx/model_int8.onnx``, written by
`reranker.engines.onnx_export` (at image build time). When those are missing and torch is
installed (a developer machine), they are exported once into the model directory or, if that
is read-only, a cache directory.

Scoring mirrors sentence-transformers' CrossEncoder: pairs tokenized together with
longest-first truncation to the model's limit, the logits passed through the activation the
model configures (ms-marco: identity; none configured and one label: sigmoid). Coalescing,
length-sorted micro-batches (`BATCH_SIZE`, default 4) and the activation come from
`base.BatchingEngine`; this module tokenizes with `tokenizers` and runs the ONNX session.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from abc import abstractmethod
from pathlib import Path
from typing import Any

import numpy as np

from reranker.engines import onnx_export
from reranker.engines.base import BatchingEngine
from reranker.engines.batching import Pairs
from reranker.settings import Settings

log = logging.getLogger("reranker.engines.onnx")

FILES = {"fp32": onnx_export.FP32_NAME, "int8": onnx_export.INT8_NAME}


def onnx_file(model_dir: Path, variant: str) -> Path:
    """The .onnx file for `variant`, exported first when missing or made from other weights.

    A file in MODEL_DIR/onnx is used when its stamp matches the weights beside it (or when no
    weights are there, as in the image); otherwise the model is exported again, into
    MODEL_DIR/onnx or, if that is read-only, a cache directory keyed by the weights.
    """
    name = FILES[variant]
    shipped = model_dir / "onnx" / name
    source = onnx_export.source_fingerprint(model_dir)  # hashes the weights: once
    if shipped.exists() and onnx_export.is_current(shipped.parent, source):
        return shipped
    key = hashlib.sha256(f"{model_dir.resolve()}|{source}".encode()).hexdigest()[:16]
    cached = Path(tempfile.gettempdir()) / "reranker-onnx" / key / name
    if cached.exists():
        return cached
    target = model_dir / "onnx" if os.access(model_dir, os.W_OK) else cached.parent
    log.info("no current %s in %s: exporting it to %s (needs torch)", name, model_dir, target)
    try:
        onnx_export.export(model_dir, target, int8=variant == "int8")
    except ModuleNotFoundError as exc:
        raise RuntimeError(
            f"{model_dir} has no onnx/{name}, and writing it needs {exc.name!r}: "
            "pip install 'reranker[export]' (or run python -m reranker.engines.onnx_export "
            "MODEL_DIR where it is installed)") from exc
    return target / name


class OnnxFileEngine(BatchingEngine):
    """An engine over the model's exported `onnx/model.onnx`: the `tokenizers` tokenizer and
    the (ids, mask, types) feed; a subclass loads a runtime for the file and runs it."""

    variant = "fp32"

    def _load(self, settings: Settings) -> None:
        from tokenizers import Tokenizer

        tokenizer = self.model_dir / "tokenizer.json"
        if not tokenizer.is_file():  # tokenizers would say only "No such file or directory"
            raise FileNotFoundError(f"no tokenizer.json in {self.model_dir} (a fast tokenizer, "
                                    "as save_pretrained writes it, is needed)")
        self._tokenizer = Tokenizer.from_file(str(tokenizer))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(self.max_length, strategy="longest_first")
        self._pad_id = int(self._config.get("pad_token_id") or 0)
        self._load_runtime(onnx_file(self.model_dir, self.variant),
                           threads=len(os.sched_getaffinity(0)))

    @abstractmethod
    def _load_runtime(self, path: Path, *, threads: int) -> None:
        """Load `path` into the runtime, to run on `threads` threads."""

    @abstractmethod
    def _run(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        """The logits [batch, labels] of one micro-batch."""

    def _tokenize(self, pairs: Pairs) -> tuple[list[Any], list[int]]:
        encodings = self._tokenizer.encode_batch(pairs)
        return encodings, [len(e.ids) for e in encodings]

    def _forward(self, encodings) -> np.ndarray:
        return self._run(self._feed(encodings))[:, 0].astype(np.float64)

    def _feed(self, encodings, multiple: int = 1) -> dict[str, np.ndarray]:
        """The inputs of one micro-batch, padded to its longest pair (rounded up to
        `multiple`: fewer distinct shapes for a runtime that prepares each one)."""
        width = -(-max(len(e.ids) for e in encodings) // multiple) * multiple
        shape = (len(encodings), width)
        ids = np.full(shape, self._pad_id, dtype=np.int64)
        mask = np.zeros(shape, dtype=np.int64)
        types = np.zeros(shape, dtype=np.int64)
        for row, enc in enumerate(encodings):
            n = len(enc.ids)
            ids[row, :n] = enc.ids
            mask[row, :n] = 1
            types[row, :n] = enc.type_ids
        return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


class OnnxEngine(OnnxFileEngine):
    """`onnx`: the model's fp32 ONNX export on ONNX Runtime's CPU provider."""

    # Small passes of length-sorted pairs keep activations in the CPU caches: on the benchmark
    # (2 cores, ~120 tokens per pair) 2-8 pairs ran ~1.45x the pairs/s of 32 in fp32 and ~1.9x
    # in int8 (docs/bench.md).
    default_batch_size = 4

    def _load_runtime(self, path: Path, *, threads: int) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Every pass has a new (batch, length) shape: the memory-pattern cache and the arena
        # would keep growing with them (soak: +29 % RSS over 450 requests). Plain malloc/free.
        options.enable_mem_pattern = False
        options.enable_cpu_mem_arena = False
        self._session = ort.InferenceSession(str(path), options,
                                             providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        log.info("onnx engine: %s, %d threads", path, threads)

    def _run(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        [logits] = self._session.run(["logits"], {k: v for k, v in feed.items()
                                                  if k in self._inputs})
        return logits


class OnnxInt8Engine(OnnxEngine):
    """`onnx-int8`: the export with dynamically quantised int8 weights (VNNI on x86)."""

    variant = "int8"
    precision = "int8"
