"""Run Weaviate as local processes for `weaviate-dev run`.

This package finds Weaviate (a source checkout, a binary or an image) and builds it, resolves
the profiles of run_dev_server.sh and their ports, starts one node in the foreground or a whole
cluster, waits until the cluster's raft agrees, and records which processes `run` started.
"""
