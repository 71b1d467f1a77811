"""The reranker's Prometheus metrics, served on `GET /metrics` (prometheus-client).

Where a rerank's time goes, from the outside in:

| metric | type | what |
|---|---|---|
| `reranker_requests_total{endpoint, status}` | counter | requests by route and HTTP status |
| `reranker_request_seconds{endpoint}` | histogram | request latency, as the server sees it |
| `reranker_documents_per_request` | histogram | documents of one `POST /rerank` |
| `reranker_queue_wait_seconds` | histogram | a request's wait for the model (the coalescer's queue) |
| `reranker_inference_seconds` | histogram | the model's time for one pass (tokenizing included) |
| `reranker_batch_pairs` | histogram | pairs of one forward pass (micro-batch) |
| `reranker_pairs_scored_total` | counter | (query, document) pairs scored |
| `reranker_tokens_per_pair` | histogram | tokens of a pair after truncation |
| `reranker_truncated_pairs_total` | counter | pairs cut at the model's limit |
| `reranker_engine_info{engine, precision, model, model_type}` | gauge (1) | what serves |
| `reranker_requests_in_flight` | gauge | `POST /rerank` requests admitted, not yet answered |
| `reranker_bytes_in_flight` | gauge | their bodies' bytes (bounded by MAX_INFLIGHT_BYTES) |
| `reranker_requests_queued` | gauge | requests waiting to be admitted (bounded by MAX_QUEUED) |
| `reranker_requests_rejected_total{reason}` | counter | 503s for overload: `queue_full`, `timeout` |
| `reranker_requests_dropped_total{reason}` | counter | requests left unfinished: `client_gone`, `deadline` |

With several gunicorn workers (`WORKERS` > 1) every worker counts in its own files under
`PROMETHEUS_MULTIPROC_DIR` (set by `python -m reranker`), and `/metrics` sums them.
`METRICS=off` leaves every metric unrecorded and `/metrics` answering 404.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from contextlib import contextmanager

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, multiprocess
from prometheus_client.exposition import choose_encoder

SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100)
COUNTS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000)
TOKENS = (16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192)

REQUESTS = Counter("reranker_requests_total", "Requests by endpoint and HTTP status.",
                   ["endpoint", "status"])
REQUEST_SECONDS = Histogram("reranker_request_seconds", "Request latency in the server.",
                            ["endpoint"], buckets=SECONDS)
DOCUMENTS = Histogram("reranker_documents_per_request", "Documents of one POST /rerank.",
                      buckets=COUNTS)
QUEUE_WAIT = Histogram("reranker_queue_wait_seconds",
                       "A request's wait for the model before its pass starts.", buckets=SECONDS)
INFERENCE = Histogram("reranker_inference_seconds",
                      "The model's time for one pass over the waiting requests' pairs.",
                      buckets=SECONDS)
BATCH_PAIRS = Histogram("reranker_batch_pairs", "Pairs of one forward pass (micro-batch).",
                        buckets=COUNTS)
PAIRS = Counter("reranker_pairs_scored_total", "(query, document) pairs scored.")
TOKENS_PER_PAIR = Histogram("reranker_tokens_per_pair", "Tokens of a pair after truncation.",
                            buckets=TOKENS)
TRUNCATED = Counter("reranker_truncated_pairs_total", "Pairs cut at the model's token limit.")
ENGINE = Gauge("reranker_engine_info", "The engine that serves: 1, with what it is as labels.",
               ["engine", "precision", "model", "model_type"], multiprocess_mode="liveall")

IN_FLIGHT = Gauge("reranker_requests_in_flight",
                  "POST /rerank requests admitted and not yet answered.", multiprocess_mode="livesum")
BYTES_IN_FLIGHT = Gauge("reranker_bytes_in_flight",
                        "Body bytes of the requests in flight (MAX_INFLIGHT_BYTES).",
                        multiprocess_mode="livesum")
QUEUED = Gauge("reranker_requests_queued", "Requests waiting to be admitted (MAX_QUEUED).",
               multiprocess_mode="livesum")
REJECTED = Counter("reranker_requests_rejected_total",
                   "Requests answered 503 for overload: queue_full (at once) or timeout "
                   "(QUEUE_TIMEOUT ran out).", ["reason"])
for _reason in ("queue_full", "timeout"):  # both series from the start: rate() sees the first
    REJECTED.labels(_reason)
DROPPED = Counter("reranker_requests_dropped_total",
                  "Requests dropped before their end, the rest of their pairs unscored: "
                  "client_gone (the client closed its connection) or deadline "
                  "(REQUEST_TIMEOUT passed).", ["reason"])
for _reason in ("client_gone", "deadline"):
    DROPPED.labels(_reason)

_enabled = True


def configure(enabled: bool) -> None:
    """METRICS=off: record nothing (the bench measures what recording costs)."""
    global _enabled
    _enabled = enabled


def enabled() -> bool:
    return _enabled


def request_done(endpoint: str, status: int, seconds: float) -> None:
    if _enabled:
        REQUESTS.labels(endpoint, str(status)).inc()
        REQUEST_SECONDS.labels(endpoint).observe(seconds)


def documents(count: int) -> None:
    if _enabled:
        DOCUMENTS.observe(count)


def queue_wait(seconds: float) -> None:
    if _enabled:
        QUEUE_WAIT.observe(seconds)


@contextmanager
def inference():
    """Time one pass of the model."""
    started = time.perf_counter()
    try:
        yield
    finally:
        if _enabled:
            INFERENCE.observe(time.perf_counter() - started)


def pass_shape(lengths: Iterable[int], limit: int, batches: Iterable[int]) -> None:
    """One pass: each pair's token count (those at the limit were cut), the micro-batches."""
    if not _enabled:
        return
    lengths = list(lengths)
    PAIRS.inc(len(lengths))
    for length in lengths:
        TOKENS_PER_PAIR.observe(length)
    truncated = sum(length >= limit for length in lengths)
    if truncated:
        TRUNCATED.inc(truncated)
    for size in batches:
        BATCH_PAIRS.observe(size)


def pairs_scored(count: int) -> None:
    """Pairs an engine scored that reports no pass shape (the CrossEncoder)."""
    if _enabled:
        PAIRS.inc(count)


def admission(in_flight: int, bytes_in_flight: int, queued: int) -> None:
    """What admission control holds now (set under its lock, so the three agree)."""
    if _enabled:
        IN_FLIGHT.set(in_flight)
        BYTES_IN_FLIGHT.set(bytes_in_flight)
        QUEUED.set(queued)


def rejected(reason: str) -> None:
    if _enabled:
        REJECTED.labels(reason).inc()


def dropped(reason: str) -> None:
    if _enabled:
        DROPPED.labels(reason).inc()


def engine_loaded(engine: str, precision: str, model: str, model_type: str) -> None:
    if _enabled:
        ENGINE.labels(engine, precision, model, model_type).set(1)


def exposition(accept: str = "") -> tuple[bytes, str]:
    """The metrics in the format the scraper asks for in its Accept header (Prometheus' text
    format 0.0.4 when it names none: what every Prometheus 2 reads; OpenMetrics or text 1.0.0
    when asked), summed over the workers in multiprocess mode."""
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    encoder, content_type = choose_encoder(accept or "text/plain; version=0.0.4")
    return encoder(registry), content_type
