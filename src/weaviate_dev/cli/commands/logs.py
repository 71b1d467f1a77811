"""`weaviate-dev logs NAME...`: print the logs of dev services (through `compose logs`)
and of the Weaviate nodes that `weaviate-dev run` started in the background or as a cluster
(their log files: `weaviate` for every node, `weaviate-I` for node I). `-n` prints only the
last lines, `-f` keeps printing new lines."""

from __future__ import annotations

from weaviate_dev.cli.commands.down import (add_data_dir_option, add_project_options,
                                            data_root_of, project_compose)
from weaviate_dev.core.errors import UsageError
from weaviate_dev.core.settings import Settings
from weaviate_dev.services.catalog import load_catalog
from weaviate_dev.weaviate import logs as weaviate_logs


def register(subparsers) -> None:
    parser = subparsers.add_parser("logs", help="show the logs of dev services and Weaviate",
                                   description=__doc__, allow_abbrev=False)
    parser.add_argument("services", metavar="NAME", nargs="+",
                        help="a compose service, e.g. reranker-transformers; or weaviate "
                             "(every Weaviate node that `run --detach` or `run --all-nodes` "
                             "started), weaviate-I (node I)")
    parser.add_argument("-n", "--tail", type=int, metavar="LINES",
                        help="print only the last LINES lines of each")
    parser.add_argument("-f", "--follow", action="store_true",
                        help="keep printing new lines as they come (for Weaviate's logs: "
                             "until its nodes exit)")
    add_project_options(parser, file_short=False)
    add_data_dir_option(parser)
    parser.set_defaults(handler=handle)


def handle(args, settings: Settings) -> int:
    """Print the logs; return compose's exit code (0 when only Weaviate's were asked for)."""
    nodes = [name for name in args.services if weaviate_logs.is_weaviate(name)]
    services = [name for name in args.services if name not in nodes]
    catalog = load_catalog([f.resolve() for f in args.file])
    for name in services:
        catalog.service(name)  # a UsageError names the known services
    files = weaviate_logs.find(data_root_of(args), nodes) if nodes else []
    if args.follow and services and files:
        raise UsageError("-f follows either compose services or Weaviate nodes: run one "
                         "`weaviate-dev logs -f` for each")
    code = 0
    if services:
        compose = project_compose(args, settings)
        code = compose.run(compose.logs_argv(services, tail=args.tail, follow=args.follow),
                           check=False).returncode
    if files:
        weaviate_logs.show(files, tail=args.tail, follow=args.follow)
    return code
