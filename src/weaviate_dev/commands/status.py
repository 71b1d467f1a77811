"""`weaviate-dev status`: the containers of the compose project with their state, health and
host ports; `--json` for scripts. HEALTH is Docker's health check where the service has one
("-" otherwise); READY is our readiness probe from the service catalog, run now."""

from __future__ import annotations

import json

from weaviate_dev import docker_engine
from weaviate_dev.commands.down import add_project_options, project_compose
from weaviate_dev.errors import UsageError
from weaviate_dev.services import load_catalog
from weaviate_dev.settings import Settings


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "status", help="show the dev services: state, health, host ports",
        description=__doc__, allow_abbrev=False)
    parser.add_argument("--json", action="store_true", help="print JSON")
    add_project_options(parser)
    parser.set_defaults(handler=handle)


def collect(project: str, settings: Settings, overrides=()) -> list[dict]:
    """One row per container of the project; READY for every service our compose file or an
    override (--file) defines with an x-weaviate-dev block."""
    catalog = load_catalog(overrides)
    rows = []
    for container in docker_engine.project_containers(project):
        ready = "-"
        if container.state == "running":
            try:
                service = catalog.service(container.service)
            except UsageError:  # a container of an override file: no probe known
                service = None
            if service is not None:
                probe = service.readiness_probe(settings.bind_address)
                ready = "yes" if probe() is None else "no"
        rows.append({"service": container.service, "container": container.name,
                     "state": container.state, "health": container.health, "ready": ready,
                     "ports": list(container.ports)})
    return rows


def handle(args, settings: Settings) -> int:
    overrides = project_compose(args, settings).files[1:]
    docker_engine.version()
    rows = collect(args.project_name, settings, overrides)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print(f"no containers in compose project {args.project_name}")
        return 0
    header = ("SERVICE", "STATE", "HEALTH", "READY", "HOST PORTS")
    table = [header] + [(r["service"], r["state"], r["health"], r["ready"],
                         ", ".join(r["ports"]) or "-") for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
    for row in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1])
    return 0
