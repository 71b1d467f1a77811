"""`weaviate-dev down`: stop and remove the containers and network of the compose project
(with orphans). Local state in the workspace is left alone; `restart` deletes it."""

from __future__ import annotations

from pathlib import Path

from weaviate_dev import compose as compose_mod
from weaviate_dev.settings import Settings


def add_project_options(parser) -> None:
    """-p/--project-name and -f/--file, shared by down, status and logs."""
    parser.add_argument("-p", "--project-name", default=compose_mod.DEFAULT_PROJECT,
                        help="compose project name (default: %(default)s)")
    parser.add_argument("--file", metavar="COMPOSE_FILE", action="append", default=[],
                        type=Path, help="an extra compose file (override) after ours")


def project_compose(args, settings: Settings) -> compose_mod.Compose:
    """The Compose of our project for verbs that act on what restart started."""
    files = (compose_mod.default_compose_file(settings), *[f.resolve() for f in args.file])
    compose_mod.check_files(files)
    return compose_mod.Compose(
        command=compose_mod.find_compose_command(), files=files, project=args.project_name,
        env=compose_mod.compose_environment(settings, Path.cwd()))


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "down", help="stop and remove the dev services (local state is kept)",
        description=__doc__, allow_abbrev=False)
    add_project_options(parser)
    parser.set_defaults(handler=handle)


def handle(args, settings: Settings) -> int:
    compose = project_compose(args, settings)
    compose_mod.check_engine()
    compose.run(compose.down_argv())
    return 0
