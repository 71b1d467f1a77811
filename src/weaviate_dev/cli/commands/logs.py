"""`weaviate-dev logs SERVICE...`: print the logs of dev services (through `compose logs`);
`-f` keeps printing new lines."""

from __future__ import annotations

from weaviate_dev.cli.commands.down import add_project_options, project_compose
from weaviate_dev.core.settings import Settings
from weaviate_dev.services.catalog import load_catalog


def register(subparsers) -> None:
    parser = subparsers.add_parser("logs", help="show the logs of dev services",
                                   description=__doc__, allow_abbrev=False)
    parser.add_argument("services", metavar="SERVICE", nargs="+",
                        help="compose service name, e.g. reranker-transformers")
    parser.add_argument("-n", "--tail", type=int, metavar="LINES",
                        help="print only the last LINES lines of each service")
    parser.add_argument("-f", "--follow", action="store_true",
                        help="keep printing new lines as they come")
    add_project_options(parser, file_short=False)
    parser.set_defaults(handler=handle)


def handle(args, settings: Settings) -> int:
    """Print the services' logs; return compose's exit code."""
    catalog = load_catalog([f.resolve() for f in args.file])
    for name in args.services:
        catalog.service(name)  # a UsageError names the known services
    compose = project_compose(args, settings)
    result = compose.run(compose.logs_argv(args.services, tail=args.tail, follow=args.follow),
                         check=False)
    return result.returncode
