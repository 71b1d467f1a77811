"""`weaviate-dev down`: stop and remove the containers and network of the compose project
(with orphans). Local state in the workspace is left alone; `restart` deletes it."""

from __future__ import annotations

from pathlib import Path

from weaviate_dev import compose as compose_mod
from weaviate_dev import docker_engine, state
from weaviate_dev.settings import Settings


def add_project_options(parser, *, file_short: bool = True) -> None:
    """-p/--project-name, -f/--file and --workspace, as restart spells them; shared by down,
    status and logs (logs keeps -f for --follow, as `docker compose logs -f` does)."""
    parser.add_argument("-p", "--project-name", default=compose_mod.DEFAULT_PROJECT,
                        help="compose project name (default: %(default)s)")
    names = ("-f", "--file") if file_short else ("--file",)
    parser.add_argument(*names, dest="file", metavar="COMPOSE_FILE", action="append",
                        default=[], type=Path, help="an extra compose file (override) after ours")
    parser.add_argument("--workspace", metavar="DIR", default=".",
                        help="where the local state lives (default: the current directory)")


def project_compose(args, settings: Settings) -> compose_mod.Compose:
    """The Compose of our project for verbs that act on what restart started."""
    return compose_mod.for_project(settings, project=args.project_name,
                                   overrides=[f.resolve() for f in args.file],
                                   workspace=state.resolve_workspace(args.workspace))


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "down", help="stop and remove the dev services (local state is kept)",
        description=__doc__, allow_abbrev=False)
    add_project_options(parser)
    parser.set_defaults(handler=handle)


def handle(args, settings: Settings) -> int:
    compose = project_compose(args, settings)
    docker_engine.version()
    compose.run(compose.down_argv())
    return 0
