"""Test fixtures that run Weaviate with our reranker: testcontainers classes and a pytest
plugin. Installing the package registers the plugin (through the `pytest11` entry point)."""
