"""`weaviate-dev status`: show what the dev environment has running.

status lists the containers of the compose project with their state, health and host ports,
and every Weaviate that `weaviate-dev run` started (single nodes and whole clusters, in any
terminal). `--json` prints the same as JSON, for scripts. HEALTH is Docker's health check when
the service has one ("-" otherwise). READY is our readiness probe, run at that moment (for a
Weaviate: /v1/.well-known/ready). For our reranker, one more line names the model it serves
(hub id@commit, or directory and digest), its engine and its precision."""

from __future__ import annotations

import argparse
import json

from weaviate_dev.cli.commands.down import add_data_dir_option, add_project_options, data_root_of
from weaviate_dev.core import waiting
from weaviate_dev.core.errors import UsageError
from weaviate_dev.core.settings import Settings
from weaviate_dev.services import compose as compose_mod
from weaviate_dev.services import reranker_image
from weaviate_dev.services.docker import containers, engine
from weaviate_dev.services.catalog import load_catalog
from weaviate_dev.weaviate import running
from weaviate_dev.weaviate.profile_types import weaviate_ready_url


RERANKER = "reranker-transformers"


def register(subparsers) -> None:
    """Add the `status` verb and its options."""
    parser = subparsers.add_parser(
        "status", help="show the dev services and the Weaviates `run` started",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False)
    parser.add_argument("--json", action="store_true", help="print JSON")
    add_project_options(parser)
    add_data_dir_option(parser)
    parser.set_defaults(handler=handle)


def collect(project: str, settings: Settings, overrides=()) -> list[dict]:
    """Return one row per container of the project. READY is filled in for each service that
    our compose file or an override (--file) defines with an x-weaviate-dev block."""
    catalog = load_catalog(overrides)
    rows = []
    for container in containers.project_containers(project):
        ready = "-"
        if container.state == "running":
            try:
                service = catalog.service(container.service)
            except UsageError:  # a container of an override file: no probe known
                service = None
            if service is not None:
                probe = service.readiness_probe(settings.bind_address)
                ready = "yes" if probe() is None else "no"
        row = {"kind": "container", "service": container.service,
               "container": container.name, "state": container.state,
               "health": container.health, "ready": ready, "ports": list(container.ports)}
        if container.service == RERANKER and ready == "yes":
            row["serves"] = reranker_image.describe_serving(
                catalog.service(RERANKER).url(settings.bind_address), container.image)
        rows.append(row)
    return rows


def collect_runs(data_root) -> list[dict]:
    """Return one row per Weaviate that `run` recorded under data_root, alive or not. A dead
    one was left by a crash; `down` or the next `run` forgets it."""
    rows = []
    for run_file in running.recorded(data_root):
        for record in run_file.records():
            alive = record.alive()
            ready = "-"
            if alive:
                probe = waiting.http_probe(weaviate_ready_url(record.http))
                ready = "yes" if probe() is None else "no"
            rows.append({"kind": "run", "service": record.label,
                         "container": record.container or f"pid {record.pid}",
                         "state": "running" if alive else "gone", "health": "-",
                         "ready": ready, "ports": [f"127.0.0.1:{record.http} (http)",
                                                   f"127.0.0.1:{record.grpc} (grpc)"],
                         "log": record.log})
    return rows


def handle(args, settings: Settings) -> int:
    """Print the table, or JSON with --json; return 0."""
    # status runs no compose command: the override files are only read, for their probes
    overrides = [f.resolve() for f in args.file]
    compose_mod.check_files(overrides)
    rows = collect_runs(data_root_of(args))
    engine_answers = engine.answers()
    if engine_answers:
        rows = collect(args.project_name, settings, overrides) + rows
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not engine_answers:
        print("no Docker engine answers: no compose services")
    if not rows:
        print(f"nothing running: no containers in compose project {args.project_name}, "
              f"no Weaviate started by `weaviate-dev run`")
        return 0
    header = ("SERVICE", "STATE", "HEALTH", "READY", "WHERE")
    table = [header] + [(r["service"], r["state"], r["health"], r["ready"],
                         ", ".join(r["ports"]) or "-") for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
    for row in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1])
    for row in rows:
        if row.get("serves"):
            print(f"{row['service']} serves {row['serves']}")
    return 0
