"""`weaviate-dev dev` (placeholder until its issue lands)."""

from weaviate_dev.errors import DevError


def register(subparsers):
    parser = subparsers.add_parser("dev", help="(not implemented yet)")
    parser.set_defaults(handler=handle)


def handle(args, settings):
    raise DevError("'dev' is not implemented yet")
