"""The compose services and Docker: the compose file as the one service definition, compose
command lines, the Docker engine (the one boundary, and its install), the images we build or
pull (base, reranker, another platform's), keycloak, the reranker image's model, host ports."""
