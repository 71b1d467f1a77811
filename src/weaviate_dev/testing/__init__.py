"""The test fixtures: testcontainers for Weaviate and our reranker, and the pytest plugin
(registered through the `pytest11` entry point: installing the package is enough)."""
