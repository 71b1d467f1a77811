"""Run the compose services and talk to Docker.

This package reads the service definitions from our compose file, builds compose command
lines, connects to the Docker engine (and installs one where it is missing), provides the
images we pull or build (the base image, Prometheus, the reranker image), creates Keycloak's
demo user, and checks that host ports are free.
"""
