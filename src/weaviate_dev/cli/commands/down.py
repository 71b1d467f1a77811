"""`weaviate-dev down`: stop every Weaviate that `weaviate-dev run` started, then stop and
remove the containers and network of the compose project, orphans included.

down finds the Weaviates started in any terminal, single nodes and whole clusters alike,
through the records that `run` keeps under the data directory (running.py). Local state is
kept; `restart` deletes the workspace's."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from weaviate_dev.core import state
from weaviate_dev.core.progress import say
from weaviate_dev.core.settings import Settings
from weaviate_dev.services import compose as compose_mod
from weaviate_dev.services.docker import containers, engine
from weaviate_dev.weaviate import running


def add_project_options(parser, *, file_short: bool = True) -> None:
    """Add -p/--project-name, -f/--file and --workspace, spelled as restart spells them. down,
    status and logs share them; logs takes only --file, because -f means --follow there, as in
    `docker compose logs -f`."""
    parser.add_argument("-p", "--project-name", default=compose_mod.DEFAULT_PROJECT,
                        help="compose project name (default: %(default)s)")
    names = ("-f", "--file") if file_short else ("--file",)
    parser.add_argument(*names, dest="file", metavar="COMPOSE_FILE", action="append",
                        default=[], type=Path,
                        help="an extra compose file, read after ours (an override); may be "
                             "repeated")
    parser.add_argument("--workspace", metavar="DIR", default=".",
                        help="the directory of the local state (default: the current directory)")


def project_compose(args, settings: Settings) -> compose_mod.Compose:
    """Return the Compose of our project, for the verbs that act on what restart started."""
    return compose_mod.for_project(settings, project=args.project_name,
                                   overrides=[f.resolve() for f in args.file],
                                   workspace=state.resolve_workspace(args.workspace))


def register(subparsers) -> None:
    """Add the `down` verb and its options."""
    parser = subparsers.add_parser(
        "down", help="stop and remove the dev services (local state is kept)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False)
    add_project_options(parser)
    add_data_dir_option(parser)
    parser.set_defaults(handler=handle)


def add_data_dir_option(parser) -> None:
    """Add --data-dir, as `run` takes it: where to look for the records of the Weaviates that
    `run` started."""
    parser.add_argument("--data-dir", metavar="DIR",
                        help="the data directory given to `weaviate-dev run` (default "
                             "$XDG_DATA_HOME/weaviate-dev)")


def data_root_of(args) -> Path:
    """Return the data directory that --data-dir names, or run's default."""
    from weaviate_dev.cli.commands.run import data_root

    return data_root(args, os.environ)


def handle(args, settings: Settings) -> int:
    """Stop the Weaviates that `run` started, then the compose project; return 0."""
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
