"""The `reranker-transformers` wire format: request parsing and response shapes.

Pure functions on bytes and dicts, no Flask: `parse_rerank_request` turns a request body into a
`RerankRequest` or raises `BadRequest` (a 4xx status and a message), and the two `*_response`
functions build the official app's answer, all four keys always present.
The protocol, as users see it: docs/reranker.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


class BadRequest(Exception):
    """A request the service refuses: answered with `status` and {"error": message}."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class RerankRequest:
    """A validated POST /rerank body. `documents is None` means the legacy single mode."""

    query: str
    documents: list[str] | None
    property: str | None


def _describe(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def parse_rerank_request(body: bytes, *, max_documents: int) -> RerankRequest:
    """Validate a POST /rerank body (JSON whatever the Content-Type says)."""
    if not body.strip():
        raise BadRequest("request body is empty; expected a JSON object")
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
        raise BadRequest(f"request body is not valid JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise BadRequest(f"request body must be a JSON object, got {_describe(payload)}")

    if "query" not in payload:
        raise BadRequest("'query' is required")
    query = payload["query"]
    if not isinstance(query, str):
        raise BadRequest(f"'query' must be a string, got {_describe(query)}")

    prop = payload.get("property")
    if prop is not None and not isinstance(prop, str):
        raise BadRequest(f"'property' must be a string, got {_describe(prop)}")

    documents = payload.get("documents")
    if documents is None:
        if prop is None:
            raise BadRequest("'documents' (a list of strings) is required")
        return RerankRequest(query=query, documents=None, property=prop)
    if not isinstance(documents, list):
        raise BadRequest(f"'documents' must be a list of strings, got {_describe(documents)}")
    if len(documents) > max_documents:
        raise BadRequest(f"too many documents: {len(documents)} > limit {max_documents} "
                         "(MAX_DOCUMENTS)", status=413)
    for index, document in enumerate(documents):
        if not isinstance(document, str):
            raise BadRequest(f"'documents[{index}]' must be a string, got {_describe(document)}")
    return RerankRequest(query=query, documents=documents, property=prop)


def documents_response(query: str, documents: list[str], scores: list[float]) -> dict[str, Any]:
    """The answer to a request with `documents`: one score per document, in input order."""
    if len(scores) != len(documents):
        raise RuntimeError(f"engine returned {len(scores)} scores for {len(documents)} documents")
    return {
        "query": query,
        "scores": [{"document": d, "score": s} for d, s in zip(documents, scores)],
        "property": None,
        "score": None,
    }


def single_response(query: str, prop: str, score: float) -> dict[str, Any]:
    """The answer to the legacy single mode {query, property}."""
    return {"query": query, "scores": None, "property": prop, "score": score}


def error_body(message: str) -> dict[str, str]:
    return {"error": message}
