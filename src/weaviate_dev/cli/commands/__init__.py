"""One module per `weaviate-dev` verb. Each defines `register(subparsers)`, which adds the
verb's parser, and `handle(args, settings)`, which runs it."""
