"""One module per `weaviate-dev` verb: `register(subparsers)` plus its handler."""
