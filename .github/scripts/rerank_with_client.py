"""Rerank through a Weaviate that the weaviate-dev action started, with weaviate-client v4.

    WEAVIATE_URL=http://127.0.0.1:8080 WEAVIATE_GRPC_PORT=50051 \\
    RERANKER_URL=http://127.0.0.1:8009 python .github/scripts/rerank_with_client.py

Creates a collection that reranks with reranker-transformers, adds a few passages with vectors
of its own, asks for them by vector, reranked against a query (gRPC), and compares every score
with what the reranker answers when asked directly. Prints one line; exits 1 when a score
differs by more than 1e-4 or the order does not follow the scores. The collection is deleted
afterwards.
"""

from __future__ import annotations

import math
import os
import random
import sys
import time
from urllib.parse import urlparse

import requests
import weaviate
from weaviate.classes.config import Configure, DataType, Property
from weaviate.classes.data import DataObject
from weaviate.classes.query import Rerank

COLLECTION = "ActionRerankCheck"
QUERY = "Who wrote Dune?"
PASSAGES = [
    "Frank Herbert wrote Dune, a science fiction novel set on a desert planet.",
    "Dune is a novel about spice, sandworms and the desert planet Arrakis.",
    "Berlin is the capital of Germany.",
    "Cats and dogs can be good friends.",
    "The Origin of Species explains evolution by natural selection.",
    "Madrid is the capital of Spain.",
]
TOLERANCE = 1e-4


def vector(index: int, dimensions: int = 16) -> list[float]:
    """A fixed unit vector per passage (no vectorizer module runs)."""
    rng = random.Random(index)
    values = [rng.gauss(0, 1) for _ in range(dimensions)]
    norm = math.sqrt(sum(v * v for v in values))
    return [v / norm for v in values]


def reranker_scores(url: str, documents: list[str]) -> list[float]:
    """What the reranker itself says for each document (in their order)."""
    response = requests.post(f"{url}/rerank", timeout=60,
                             json={"query": QUERY, "documents": documents, "property": ""})
    response.raise_for_status()
    return [item["score"] for item in response.json()["scores"]]


def reranked(collection) -> list[tuple[str, float]]:
    """(passage, rerank score) in Weaviate's order. Weaviate adds a new collection's rerank
    field to its schema shortly after creating it: retried for a few seconds."""
    for attempt in range(50):
        try:
            response = collection.query.near_vector(
                near_vector=vector(0), limit=len(PASSAGES),
                rerank=Rerank(prop="text", query=QUERY))
            return [(o.properties["text"], o.metadata.rerank_score) for o in response.objects]
        except weaviate.exceptions.WeaviateQueryError:
            if attempt == 49:
                raise
            time.sleep(0.2)
    raise AssertionError("unreachable")


def main() -> int:
    http = urlparse(os.environ["WEAVIATE_URL"])
    grpc_port = int(os.environ["WEAVIATE_GRPC_PORT"])
    reranker = os.environ["RERANKER_URL"]
    with weaviate.connect_to_local(host=http.hostname, port=http.port,
                                   grpc_port=grpc_port) as client:
        client.collections.delete(COLLECTION)
        collection = client.collections.create(
            COLLECTION, vector_config=Configure.Vectors.self_provided(),
            reranker_config=Configure.Reranker.transformers(),
            properties=[Property(name="text", data_type=DataType.TEXT)])
        try:
            added = collection.data.insert_many(
                [DataObject(properties={"text": text}, vector=vector(i))
                 for i, text in enumerate(PASSAGES)])
            if added.errors:
                print(f"inserting failed: {added.errors}", file=sys.stderr)
                return 1
            rows = reranked(collection)
        finally:
            client.collections.delete(COLLECTION)
    truth = reranker_scores(reranker, [text for text, _ in rows])
    worst = max(abs(score - expected) for (_, score), expected in zip(rows, truth))
    scores = [score for _, score in rows]
    if len(rows) != len(PASSAGES) or worst > TOLERANCE or scores != sorted(scores, reverse=True):
        print(f"reranking through {os.environ['WEAVIATE_URL']} does not match the reranker at "
              f"{reranker}: {rows} vs {truth}", file=sys.stderr)
        return 1
    print(f"reranked {len(rows)} passages through Weaviate at {os.environ['WEAVIATE_URL']} "
          f"(gRPC {grpc_port}): every score is the reranker's (largest difference {worst:.1e})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
