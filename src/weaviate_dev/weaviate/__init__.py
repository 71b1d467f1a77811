"""Weaviate as processes: where it comes from (a checkout, a binary, an image) and building it,
the profiles of run_dev_server, one node in the foreground, a cluster and its raft readiness,
process groups, the port scheme, and what `run` has running."""
