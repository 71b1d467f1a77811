"""ONNX Runtime engines: `onnx` (fp32) and `onnx-int8` (dynamic int8 weights, VNNI on x86).

Need only onnxruntime, tokenizers and numpy — no torch, no transformers — so an image for
them is a fraction of the torch one. The model directory holds the Hugging Face files
(config.json, tokenizer.json) and ``onnx/model.onnx`` / ``onnx/model_int8.onnx``, written by
`reranker.engines.onnx_export` (at image build time). When those are missing and torch is
installed (a developer machine), they are exported once into the export cache (`onnx_store`),
never into the model directory, and found there on every later start.

Scoring mirrors sentence-transformers' CrossEncoder: pairs tokenized together by the model's
own tokenizer.json (its pair template and special tokens) with longest-first truncation to the
model's limit, fed as exactly the inputs the graph declares, the logits passed through the
activation the model configures (ms-marco: identity; none configured and one label: sigmoid).
Coalescing, length-sorted micro-batches (`BATCH_SIZE`, default 4, within `MAX_BATCH_TOKENS`)
and the activation come from `base.BatchingEngine`; this module tokenizes with `tokenizers`
and runs the ONNX session.
"""

from __future__ import annotations

import importlib.util
import logging
from abc import abstractmethod
from pathlib import Path
from typing import Any

import numpy as np

from reranker.cpus import usable_cpus
from reranker.engine import EngineError
from reranker.engines import onnx_store
from reranker.engines.base import BatchingEngine
from reranker.engines.batching import Pairs
from reranker.settings import Settings

log = logging.getLogger("reranker.engines.onnx")

# What a tokenizer gives for a pair; a graph takes some of them (not token_type_ids, for the
# RoBERTa kin, DistilBERT and ModernBERT).
FEED_NAMES = ("input_ids", "attention_mask", "token_type_ids")
FILES = {"fp32": onnx_store.FP32_NAME, "int8": onnx_store.INT8_NAME}


def onnx_file(model_dir: Path, variant: str, cache_dir: Path | None = None) -> Path:
    """The .onnx file for `variant`: the model directory's own when current, else the export
    cache's, else exported into the cache now (needs torch). Nothing is written into
    `model_dir`: it may be a read-only mount, and it is the user's."""
    from reranker.engines.onnx_export import ExportError, export

    name = FILES[variant]
    cache_dir = Path(cache_dir) if cache_dir else onnx_store.default_cache_dir()
    shipped = onnx_store.shipped_dir(model_dir)
    source = onnx_store.source_fingerprint(model_dir)  # hashes the weights: once
    if (shipped / name).is_file() and onnx_store.is_current(shipped, source):
        return shipped / name
    if source is None:
        raise EngineError(f"{model_dir} has neither torch weights nor onnx/{name}")
    cached = onnx_store.cached_dir(cache_dir, source)
    if (cached / name).is_file() and onnx_store.is_current(cached, source):
        log.info("using the export cached in %s", cached)
        return cached / name
    missing = [m for m in ("torch", "transformers", "onnx")
               if importlib.util.find_spec(m) is None]
    if missing and (shipped / name).is_file():
        log.info("using %s, the model repository's own export (%s is not installed to make "
                 "one of ours)", shipped / name, missing[0])
        return shipped / name
    if missing:
        raise EngineError(f"{model_dir} has no current onnx/{name}, and exporting it needs "
                          f"{missing[0]!r}: pip install 'reranker[export]' (or run python -m "
                          "reranker.engines.onnx_export MODEL_DIR where it is installed)")
    log.info("no current %s in %s: exporting it into the cache %s (needs torch; once)", name,
             model_dir, cached)
    try:
        onnx_store.publish(cache_dir, source,
                           lambda scratch: export(model_dir, scratch, int8=variant == "int8"))
    except ExportError as exc:
        raise EngineError(str(exc)) from None
    return cached / name


def pad_id(config: dict[str, Any], tokenizer) -> int:
    """The padding token: the config's, else the tokenizer's (XLM-RoBERTa pads with 1)."""
    if isinstance(config.get("pad_token_id"), int):
        return config["pad_token_id"]
    padding = tokenizer.padding or {}
    return int(padding.get("pad_id", 0))


class OnnxFileEngine(BatchingEngine):
    """An engine over the model's ONNX export: the model's own `tokenizers` tokenizer and a
    feed of exactly the graph's inputs; a subclass loads a runtime for the file and runs it."""

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
        self._pad_id = pad_id(self._config, self._tokenizer)
        path = onnx_file(self.model_dir, self.variant, settings.export_cache_dir)
        from reranker.engines.onnx_export import describe

        self.reduced_precision = settings.reduced_precision
        self.graph_path = path
        self.graph = describe(path.parent)  # which graph, for the start log
        self._load_runtime(path, threads=usable_cpus())

    @abstractmethod
    def _load_runtime(self, path: Path, *, threads: int) -> None:
        """Load `path` into the runtime, to run on `threads` threads."""

    def _checked_inputs(self, names: list[str], path: Path) -> list[str]:
        """The graph's input names, if the feed has each of them."""
        unknown = sorted(set(names) - set(FEED_NAMES))
        if unknown:
            raise EngineError(f"{path} takes inputs that no tokenizer gives: {unknown} (the "
                              f"engines feed {', '.join(FEED_NAMES)}); re-export the model")
        return names

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
        `multiple`: fewer distinct shapes for a runtime that prepares each one); the runtime
        takes exactly the inputs its graph declares (`_inputs`)."""
        width = -(-max(len(e.ids) for e in encodings) // multiple) * multiple
        shape = (len(encodings), width)
        arrays = {"input_ids": np.full(shape, self._pad_id, dtype=np.int64),
                  "attention_mask": np.zeros(shape, dtype=np.int64)}
        if "token_type_ids" in self._inputs:
            arrays["token_type_ids"] = np.zeros(shape, dtype=np.int64)
        for row, enc in enumerate(encodings):
            n = len(enc.ids)
            arrays["input_ids"][row, :n] = enc.ids
            arrays["attention_mask"][row, :n] = 1
            if "token_type_ids" in arrays:
                arrays["token_type_ids"][row, :n] = enc.type_ids
        return {name: arrays[name] for name in self._inputs}


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
        self._inputs = self._checked_inputs([i.name for i in self._session.get_inputs()], path)
        log.info("onnx engine: %s (%s), %d threads", path, self.graph, threads)

    def _run(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        [logits] = self._session.run(["logits"], feed)
        return logits


class OnnxInt8Engine(OnnxEngine):
    """`onnx-int8`: the export with dynamically quantised int8 weights (VNNI on x86)."""

    variant = "int8"
    precision = "int8"
