"""Scoring engines, one module each; registered by name in `reranker.engine.ENGINES`."""
