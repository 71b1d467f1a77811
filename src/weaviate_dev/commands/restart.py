"""`weaviate-dev restart` (placeholder until its issue lands)."""

from weaviate_dev.errors import DevError


def register(subparsers):
    parser = subparsers.add_parser("restart", help="(not implemented yet)")
    parser.set_defaults(handler=handle)


def handle(args, settings):
    raise DevError("'restart' is not implemented yet")
