"""Throughput of a running reranker: pairs/s through POST /rerank, Weaviate's request pattern.

Sends `--requests` requests of `--docs` documents each (Weaviate chunks by 32) from
`--concurrency` client threads, and prints pairs/s and latency percentiles. Documents are
synthetic passages of `--words` words. Only talks to the URL it is given (a local server).

    python reranker/scripts/bench_rerank.py --url http://127.0.0.1:8009 --requests 40
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import threading
import time
import urllib.request

WORDS = ("dune desert planet spice author novel science fiction frank herbert house atreides "
         "arrakis worm sand water empire emperor guild navigator prophecy mentat book series "
         "published year readers story world politics religion ecology").split()


def make_body(rng: random.Random, docs: int, words: int) -> bytes:
    documents = [" ".join(rng.choices(WORDS, k=words)) for _ in range(docs)]
    return json.dumps({"query": "who wrote dune", "documents": documents,
                       "property": ""}).encode()


def post(url: str, body: bytes) -> float:
    started = time.perf_counter()
    request = urllib.request.Request(f"{url}/rerank", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 - local
        if response.status != 200:
            raise RuntimeError(f"status {response.status}")
        response.read()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--docs", type=int, default=32)
    parser.add_argument("--words", type=int, default=60, help="words per document")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args(argv)

    rng = random.Random(0)
    bodies = [make_body(rng, args.docs, args.words) for _ in range(args.requests)]
    for body in bodies[: args.warmup]:
        post(args.url, body)
    latencies: list[float] = []
    lock = threading.Lock()
    queue = list(bodies)

    def client() -> None:
        while True:
            with lock:
                if not queue:
                    return
                body = queue.pop()
            elapsed = post(args.url, body)
            with lock:
                latencies.append(elapsed)

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(args.concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    pairs = args.requests * args.docs
    latencies.sort()
    print(f"{args.requests} requests x {args.docs} docs ({args.words} words) from "
          f"{args.concurrency} clients in {wall:.2f} s: {pairs / wall:.1f} pairs/s; latency "
          f"p50 {statistics.median(latencies) * 1000:.0f} ms, "
          f"p95 {latencies[int(0.95 * (len(latencies) - 1))] * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
