# A Weaviate server image from a locally built binary (used when the real image cannot be
# pulled). Same entrypoint and default arguments as cr.weaviate.io/semitechnologies/weaviate.
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
COPY weaviate-server /bin/weaviate
EXPOSE 8080 50051
ENTRYPOINT ["/bin/weaviate"]
CMD ["--host", "0.0.0.0", "--port", "8080", "--scheme", "http"]
