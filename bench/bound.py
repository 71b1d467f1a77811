"""The machine's bound for an engine: its GEMM throughput in the engine's precision, as pairs/s.

A cross-encoder's time is its matrix products. This measures, in the same run as the load, how
fast this machine multiplies matrices of the model's own shapes (a micro-batch of pairs of the
corpus' mean length times each weight matrix of a layer) in fp32 and in bf16, through OpenVINO's
CPU plugin (oneDNN: AVX-512 / AMX where the CPU has them) on every core, and turns it into the
pairs/s a perfect engine would reach: GEMM FLOP/s divided by the FLOPs of one pair. The FLOPs
count what our engines compute: every layer for every token, but the last layer's query,
attention output and feed-forward for the first token only (`first_token`), and the attention
products. Tokenization, softmax, layer norms and HTTP are left out, so no engine reaches 1.0.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from reranker.cpus import usable_cpus

PRECISIONS = {"fp32": "f32", "bf16": "bf16"}


@dataclass(frozen=True)
class Shape:
    """What one pair costs: the model's dimensions and the corpus' mean tokens per pair."""

    layers: int
    hidden: int
    intermediate: int
    tokens: float

    @classmethod
    def of(cls, config: dict, tokens: float) -> "Shape":
        return cls(int(config["num_hidden_layers"]), int(config["hidden_size"]),
                   int(config["intermediate_size"]), tokens)

    def flops_per_pair(self) -> float:
        """Multiply-adds x 2 of one pair through the model, as our engines run it."""
        h, f, n = self.hidden, self.intermediate, self.tokens
        full_layer = n * (4 * h * h + 2 * h * f) + 2 * n * n * h  # projections, FFN, attention
        last_layer = n * 2 * h * h + (2 * h * h + 2 * h * f) + 2 * n * h  # K,V all; rest token 0
        return 2.0 * ((self.layers - 1) * full_layer + last_layer)


def gemm_flops(shape: Shape, precision: str, *, batch: int = 4, seconds: float = 3.0) -> float:
    """FLOP/s of this machine for one layer's weight products of a `batch`-pair micro-batch,
    in `precision` ("fp32" or "bf16"), on every core the process may use."""
    import openvino as ov
    from openvino import opset13 as ops

    rows = max(1, int(round(batch * shape.tokens)))
    h, f = shape.hidden, shape.intermediate
    rng = np.random.default_rng(0)
    x = ops.parameter([rows, h], ov.Type.f32, name="x")
    node = x
    for inner, outer in ((h, 3 * h), (3 * h, h), (h, f), (f, h)):  # QKV, O, FFN up, FFN down
        weight = ops.constant(rng.standard_normal((inner, outer)).astype(np.float32) * 0.05)
        node = ops.matmul(node, weight, False, False)
    model = ov.Model([node], [x], "layer-gemms")
    config = {"INFERENCE_NUM_THREADS": usable_cpus(), "NUM_STREAMS": 1,
              "PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": PRECISIONS[precision]}
    request = ov.Core().compile_model(model, "CPU", config).create_infer_request()
    data = rng.standard_normal((rows, h)).astype(np.float32)
    for _ in range(3):
        request.infer({0: data})
    runs, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        request.infer({0: data})
        runs += 1
    elapsed = time.perf_counter() - started
    flops = 2.0 * rows * (h * 3 * h + 3 * h * h + h * f + f * h)
    return runs * flops / elapsed


@dataclass(frozen=True)
class Bound:
    precision: str
    gflops: float  # GEMM throughput measured
    pairs_per_second: float  # what it allows

    def line(self) -> str:
        return (f"bound ({self.precision}): GEMM {self.gflops:.0f} GFLOP/s on the model's "
                f"shapes -> {self.pairs_per_second:.0f} pairs/s at the corpus' mean length")


def measure(shape: Shape, precisions=("fp32", "bf16")) -> dict[str, Bound]:
    """The bound of each precision, measured now."""
    result = {}
    for precision in precisions:
        flops = gemm_flops(shape, precision)
        result[precision] = Bound(precision, flops / 1e9, flops / shape.flops_per_pair())
    return result


def mean_tokens(model_dir, corpus) -> float:
    """Mean tokens per (query, document) pair of the corpus, as the engines truncate them."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(512, strategy="longest_first")
    lengths = [len(e.ids) for q in corpus.queries
               for e in tokenizer.encode_batch([(q.text, d) for d in q.documents])]
    return float(np.mean(lengths))
