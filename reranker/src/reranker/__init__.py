"""A Weaviate-compatible reranker inference service (the `reranker-transformers` protocol).

Rooms: `settings` (configuration, read once), `engine` (the scorer protocol and its registry),
`engines/` (the scorers themselves), `protocol` (request parsing and response shapes), `app`
(the Flask routes), `serve` (the production WSGI server), `download` (build-time model fetch),
`healthcheck` (the image's probe), `testing` (a tiny deterministic cross-encoder for tests).
"""

__version__ = "0.1.0"
