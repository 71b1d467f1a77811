"""Weaviate-pattern benchmark for reranker servers (never run by the test suite).

Rooms: texts (corpus from Python's own docstrings), model (the MiniLM-L6-shaped
cross-encoder with a fitted head), load (Weaviate's request pattern over HTTP),
rss (memory of a server's process tree), server (starting our reranker locally),
soak (long run, memory growth), report (printing), cli (the ``python -m bench`` verbs).
"""
