"""Weaviate's request pattern: each query's documents as concurrent 32-document POST /rerank.

Weaviate (modules/reranker-transformers) splits a query's documents into chunks of 32 and sends
the chunks at once, each on its own request, with a JSON body and *no* Content-Type header.
`run_queries` plays that for ``concurrency`` simultaneous queries until the queries or the time
budget run out, and returns per-query latencies, pairs scored and errors. Connections are kept
alive per thread, as Go's HTTP client does. Only loopback URLs are accepted.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlsplit

CHUNK = 32
REQUEST_TIMEOUT = 120.0
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class LoadError(RuntimeError):
    """A request failed: wrong status, unreadable body or wrong number of scores."""


def check_loopback(url: str) -> tuple[str, int]:
    """(host, port) of a loopback URL; anything else is refused."""
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname not in LOOPBACK:
        raise SystemExit(f"bench only talks to http://127.0.0.1 servers, not {url!r}")
    return parts.hostname, parts.port or 80


class Client:
    """POST /rerank the way Weaviate does, one keep-alive connection per thread."""

    def __init__(self, url: str) -> None:
        self.host, self.port = check_loopback(url)
        self._local = threading.local()

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=REQUEST_TIMEOUT)
            self._local.conn = conn
        return conn

    def rerank(self, query: str, documents: list[str]) -> list[float]:
        """Scores for documents, in order; LoadError on any protocol failure."""
        body = json.dumps({"query": query, "documents": documents, "property": ""}).encode()
        # No Content-Type on purpose (Weaviate sends none); http.client adds only Host,
        # Accept-Encoding and Content-Length.
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request("POST", "/rerank", body=body)
                response = conn.getresponse()
                payload = response.read()
                break
            except (ConnectionError, http.client.HTTPException, OSError) as exc:
                conn.close()
                self._local.conn = None
                if attempt == 2:  # a stale keep-alive connection gets one retry
                    raise LoadError(f"{type(exc).__name__}: {exc}") from exc
        if response.status != 200:
            raise LoadError(f"HTTP {response.status}: {payload[:200]!r}")
        try:
            scores = [item["score"] for item in json.loads(payload)["scores"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise LoadError(f"unreadable answer: {payload[:200]!r}") from exc
        if len(scores) != len(documents):
            raise LoadError(f"{len(scores)} scores for {len(documents)} documents")
        return [float(s) for s in scores]


@dataclass
class LoadResult:
    """What one load run measured."""

    concurrency: int
    wall_seconds: float = 0.0
    query_seconds: list[float] = field(default_factory=list)
    pairs: int = 0
    requests: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def pairs_per_second(self) -> float:
        return self.pairs / self.wall_seconds if self.wall_seconds else 0.0

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile of the query latencies, in seconds (nan when none)."""
        values = sorted(self.query_seconds)
        if not values:
            return float("nan")
        rank = max(1, min(len(values), round(p / 100 * len(values) + 0.5)))
        return values[rank - 1]


def chunks(documents, size: int = CHUNK) -> list[list[str]]:
    """Weaviate's split: consecutive runs of `size` documents, the last one shorter."""
    documents = list(documents)
    return [documents[i : i + size] for i in range(0, len(documents), size)]


def run_queries(client: Client, queries, *, concurrency: int, max_queries: int,
                max_seconds: float) -> LoadResult:
    """Send up to `max_queries` queries, `concurrency` at a time, stopping after `max_seconds`.

    A query counts when all its chunks answered; its latency runs from the first chunk sent to
    the last answer. pairs/s is the documents of finished queries over the wall time.
    """
    result = LoadResult(concurrency)
    todo = list(queries)[:max_queries]
    lock = threading.Lock()
    position = iter(range(len(todo)))
    per_query = max(1, max(len(chunks(q.documents)) for q in todo))
    pool = ThreadPoolExecutor(max_workers=concurrency * per_query, thread_name_prefix="chunk")
    started = time.monotonic()
    deadline = started + max_seconds

    def one_query(query) -> None:
        t0 = time.monotonic()
        futures = [pool.submit(client.rerank, query.text, part) for part in chunks(query.documents)]
        failed = None
        for future in futures:
            try:
                future.result()
            except LoadError as exc:
                failed = str(exc)
        elapsed = time.monotonic() - t0
        with lock:
            result.requests += len(futures)
            if failed:
                result.errors.append(failed)
            else:
                result.query_seconds.append(elapsed)
                result.pairs += len(query.documents)

    def worker() -> None:
        while time.monotonic() < deadline:
            with lock:
                index = next(position, None)
            if index is None:
                return
            one_query(todo[index])

    threads = [threading.Thread(target=worker, name=f"query-{i}") for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.wall_seconds = time.monotonic() - started
    pool.shutdown()
    return result
