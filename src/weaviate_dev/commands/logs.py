"""`weaviate-dev logs` (placeholder until its issue lands)."""

from weaviate_dev.errors import DevError


def register(subparsers):
    parser = subparsers.add_parser("logs", help="(not implemented yet)")
    parser.set_defaults(handler=handle)


def handle(args, settings):
    raise DevError("'logs' is not implemented yet")
