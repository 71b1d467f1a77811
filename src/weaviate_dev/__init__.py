"""weaviate-dev: bring up a local Weaviate development environment and prove reranking works."""

__version__ = "0.1.0"
