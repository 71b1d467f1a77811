"""`weaviate-dev down` (placeholder until its issue lands)."""

from weaviate_dev.errors import DevError


def register(subparsers):
    parser = subparsers.add_parser("down", help="(not implemented yet)")
    parser.set_defaults(handler=handle)


def handle(args, settings):
    raise DevError("'down' is not implemented yet")
