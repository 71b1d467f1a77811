"""`weaviate-dev down`: stop every Weaviate that `weaviate-dev run` started (a whole cluster
or single nodes, from any terminal: recorded under the data directory, running.py), then stop
and remove the containers and network of the compose project (with orphans). Local state is
left alone; `restart` deletes the workspace's."""

from __future__ import annotations

import os
from pathlib import Path

from weaviate_dev.core import state
from weaviate_dev.core.progress import say
from weaviate_dev.core.settings import Settings
from weaviate_dev.services import compose as compose_mod
from weaviate_dev.services.docker import containers, engine
from weaviate_dev.weaviate import running


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
    add_data_dir_option(parser)
    parser.set_defaults(handler=handle)


def add_data_dir_option(parser) -> None:
    """--data-dir, as `run` takes it: where the records of what `run` started are found."""
    parser.add_argument("--data-dir", metavar="DIR",
                        help="where `weaviate-dev run` keeps its state (as given to run; "
                             "default $XDG_DATA_HOME/weaviate-dev)")


def data_root_of(args) -> Path:
    from weaviate_dev.cli.commands.run import data_root

    return data_root(args, os.environ)


def handle(args, settings: Settings) -> int:
    compose = project_compose(args, settings)
    for record in running.stop_all(data_root_of(args)):
        say(f"stopped {record.label} (http://127.0.0.1:{record.http}, pid {record.pid})")
    if not engine.answers():
        say("no Docker engine answers: no compose services to stop")
        return 0
    if not containers.project_leftovers(args.project_name):
        say(f"compose project {args.project_name}: no containers or networks to remove")
        return 0
    compose.run(compose.down_argv())
    return 0
