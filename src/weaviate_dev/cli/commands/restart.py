"""`weaviate-dev restart [FLAGS]`: stop the dev services, delete their local state, and start
the services the flags choose, so that a Weaviate dev server starts from a clean slate.

restart first works out a plan: the services the flags choose, the state to delete and the
compose command lines. With --dry-run it prints the plan and stops. Otherwise it checks
everything before it changes anything: the compose files, the compose command, the Docker
engine, the reranker's model and whether the reranker image was built with it, that no
Weaviate started by `run` still uses the data to be deleted, and that every host port is free.
Then it builds the reranker image again if it was built from another model, source, engine or
platform; runs `compose down --remove-orphans`; deletes the local state (the workspace's, and
the data `run` made for its profiles, as the original script deleted the dev server's data;
never a directory that run did not make: weaviate/run_data.py); removes the image the build
replaced; runs `compose up -d` for the chosen services and waits until each is ready (each
service has its own timeout; on a timeout restart prints the service's last 50 log lines and
exits 1). With --keycloak it also creates the demo user. See docs/restart.md.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from pathlib import Path

from weaviate_dev.cli.commands.down import add_data_dir_option, data_root_of
from weaviate_dev.core import state, tree
from weaviate_dev.core.errors import DevError
from weaviate_dev.core.process import format_argv
from weaviate_dev.core.progress import say
from weaviate_dev.core.settings import Settings
from weaviate_dev.core.waiting import wait_until
from weaviate_dev.services import compose as compose_mod
from weaviate_dev.services import keycloak, ports, reranker_image
from weaviate_dev.services.docker import containers, engine
from weaviate_dev.services.catalog import Service, ServiceCatalog, load_catalog, probe_host
from weaviate_dev.weaviate import run_data

RERANKER_SERVICE = "reranker-transformers"
KEYCLOAK_SERVICE = "keycloak"
PROMETHEUS_SERVICE = "prometheus"
LOG_TAIL_LINES = 50


def register(subparsers) -> None:
    """Add the `restart` verb, with one flag per service of our compose file."""
    catalog = load_catalog()
    parser = subparsers.add_parser(
        "restart",
        help="stop the dev services, delete local state, start the services chosen by flags",
        description=__doc__.split("\n\n")[0] + " With no service flag, restart starts "
        "nothing; contextionary, too, starts only with --contextionary.",
        allow_abbrev=False,  # --rer must not mean --reranker: flags are exact
    )
    add_service_flags(parser, catalog)
    add_options(parser)
    parser.set_defaults(handler=handle)


def add_service_flags(parser: argparse.ArgumentParser, catalog: ServiceCatalog) -> None:
    """Add a flag for each service of the catalog, and the unsupported flags, which only
    explain why they are not supported."""
    group = parser.add_argument_group("services (any order, any combination)")
    for flag, services in catalog.flags().items():
        where = ", ".join(f"{s.name} :{'/'.join(map(str, s.host_ports))}" for s in services)
        group.add_argument(f"--{flag}", dest="flags", action="append_const", const=flag,
                           help=f"{services[0].help} [{where}]")
    for flag in catalog.unsupported_flags:
        group.add_argument(f"--{flag}", dest="flags", action="append_const", const=flag,
                           help="not supported (accepted only to print why)")


def add_options(parser: argparse.ArgumentParser) -> None:
    """Add restart's options other than the service flags."""
    add_data_dir_option(parser)  # whose profiles' data/ and backups/ restart deletes
    parser.add_argument("--dry-run", action="store_true",
                        help="print the plan (services, ports, compose commands, state to "
                        "delete) and change nothing")
    parser.add_argument("--keep-data", action="store_true",
                        help="keep the local state: the workspace's, and the data of the "
                             "Weaviates that `run` starts")
    parser.add_argument("--workspace", metavar="DIR", default=".",
                        help="the directory of the local state (default: the current directory)")
    parser.add_argument("--also-delete", metavar="PATH", action="append", default=[],
                        help="also delete this path (a glob) inside the workspace; may be "
                             "repeated")
    parser.add_argument("-p", "--project-name", default=compose_mod.DEFAULT_PROJECT,
                        help="compose project name (default: %(default)s)")
    parser.add_argument("-f", "--file", metavar="COMPOSE_FILE", action="append", default=[],
                        type=Path, help="an extra compose file, read after ours (an "
                        "override); may be repeated")
    parser.add_argument("--timeout", type=float, metavar="SECONDS",
                        help="seconds to wait for each service to be ready (default: each "
                        "service's own timeout)")


@dataclass
class Plan:
    """Everything restart will do, worked out before anything changes."""

    services: list[Service]
    workspace: Path
    state_paths: list[Path]
    keep_data: bool
    compose: compose_mod.Compose
    bind_address: str
    reranker_image: str
    timeout: float | None = None  # overrides every service's own readiness timeout
    data_root: Path | None = None  # where `run` keeps each profile's state
    run_data: list[Path] = field(default_factory=list)  # the profiles' data/ under data_root
    left_alone: list[Path] = field(default_factory=list)  # data/ there that run did not make
    image: reranker_image.ImagePlan | None = None  # decided in preflight

    def timeout_for(self, service: Service) -> float:
        """Return the seconds to wait for `service`: --timeout when given, else its own."""
        return self.timeout if self.timeout is not None else service.timeout

    def describe(self) -> list[str]:
        """Return the plan as the lines restart prints before it acts."""
        lines = [f"workspace: {self.workspace}", "services:"]
        if not self.services:
            lines.append("  (none: no service flag given)")
        for service in self.services:
            published = ", ".join(f"{self.bind_address}:{p.host}->{p.container}"
                                  for p in service.ports)
            lines.append(f"  {service.name:26} {published}  (ready: {probe_text(service)} "
                         f"within {self.timeout_for(service):g}s)")
        if self.image is not None:
            lines.append(self.image.describe())
        elif any(s.name == RERANKER_SERVICE for s in self.services):
            lines.append(f"reranker image: {self.reranker_image} (built from reranker/ when "
                         "it is missing or was built from another model, source, engine "
                         "or platform)")
        lines.append("compose commands:")
        lines.append(f"  {format_argv(self.compose.down_argv())}")
        if self.services:
            lines.append(f"  {format_argv(self.compose.up_argv(self.service_names))}")
        if self.keep_data:
            lines.append("state: kept (--keep-data)")
        elif not self.state_paths and not self.run_data:
            lines.append("state to delete: none found")
        else:
            lines.append("state to delete:")
            lines += [f"  {state.display(self.workspace, p)}" for p in self.state_paths]
            lines += [f"  {p}/ (data of `run`)" for p in self.run_data]
        if self.left_alone:
            lines.append("not made by weaviate-dev: left alone:")
            lines += [f"  {p}/" for p in self.left_alone]
        return lines

    @property
    def service_names(self) -> list[str]:
        """The names of the chosen services."""
        return [s.name for s in self.services]


def probe_text(service: Service, where: str = "") -> str:
    """Return how the service's readiness is checked, for printing: "GET
    127.0.0.1:8009/.well-known/ready" or "tcp 127.0.0.1:9999" (`where` is optional)."""
    if service.probe.kind == "http":
        return f"GET {where}{service.probe.path}"
    return f"tcp {where}".rstrip()


def make_plan(args, settings: Settings, catalog: ServiceCatalog,
              compose_command: tuple[str, ...]) -> Plan:
    """Work out the plan from the flags and return it. Nothing changes yet; a missing compose
    file, or a data root that restart must never delete from, raises DevError here."""
    services = catalog.select(args.flags or [])
    workspace = state.resolve_workspace(args.workspace)
    patterns = [*catalog.state_paths, *(state.check_relative(p) for p in args.also_delete)]
    files = (compose_mod.default_compose_file(settings), *[f.resolve() for f in args.file])
    compose_mod.check_files(files)
    compose = compose_mod.Compose(
        command=compose_command, files=files, project=args.project_name,
        env=compose_mod.compose_environment(settings, workspace))
    data_root = data_root_of(args)
    found = run_data.Found([], [])
    if not args.keep_data:
        run_data.refuse_unsafe_root(data_root, (settings.project_root, tree.project_root()))
        found = run_data.find(data_root)
    return Plan(
        services=services,
        workspace=workspace,
        state_paths=[] if args.keep_data else state.find_state(workspace, patterns),
        keep_data=args.keep_data,
        compose=compose,
        bind_address=settings.bind_address,
        reranker_image=settings.reranker_image,
        timeout=args.timeout,
        data_root=data_root,
        run_data=found.ours,
        left_alone=found.others,
    )


def handle(args, settings: Settings) -> int:
    """Print the plan, then (without --dry-run) check and carry it out; return 0."""
    catalog = load_catalog()
    catalog.select(args.flags or [])  # flags first: a bad flag fails before Docker is asked
    try:
        command = containers.compose_command()
    except DevError:
        if not args.dry_run:
            raise
        command = containers.PLUGIN  # shown in the plan; a real run would stop here
    plan = make_plan(args, settings, catalog, command)
    print("\n".join(plan.describe()), flush=True)
    if args.dry_run:
        print("dry run: nothing was checked, stopped, deleted or started")
        return 0
    preflight(plan, settings)
    act(plan, settings)
    return 0


def preflight(plan: Plan, settings: Settings) -> None:
    """Check, before anything changes, that the Docker engine answers, that the reranker's
    model can be found when the reranker is chosen, that no Weaviate of `run` uses the data to
    delete, and that every host port is free. Ports held by our own project do not count:
    `down` frees them. Raises DevError naming every problem."""
    engine.version()  # raises a DevError that says how to start an engine when none answers
    if RERANKER_SERVICE in plan.service_names:
        plan.image = reranker_image.plan(settings, model=reranker_image.check_model(settings))
    if plan.run_data:
        run_data.refuse_if_running(plan.data_root)
    own = containers.project_containers(plan.compose.project)
    own_ports = {port for container in own for port in container.host_ports}
    bindings = [(plan.bind_address, p, s.name) for s in plan.services for p in s.host_ports]
    conflicts = ports.preflight(bindings, ignore_ports=own_ports)
    if conflicts:
        lines = "\n".join(f"  {c.describe()}" for c in conflicts)
        raise DevError(f"host port(s) not free:\n{lines}\nnothing was stopped, deleted or "
                       "started; free the port(s) or stop what holds them")


def act(plan: Plan, settings: Settings) -> None:
    """Carry out a checked plan: build the reranker image if needed, stop the project, delete
    the state, start the chosen services and wait until each is ready."""
    names = plan.service_names
    if plan.image is not None:  # before anything is stopped or deleted: a failed build
        plan.image.apply(keep_replaced=True)  # leaves everything as it was
    if PROMETHEUS_SERVICE in names:
        from weaviate_dev.services import images

        images.ensure_prometheus_image(settings)
    if containers.project_leftovers(plan.compose.project):
        say(f"stopping project {plan.compose.project}")
        plan.compose.run(plan.compose.down_argv(), capture=True)
    else:  # compose down would only say "Network ... not found"
        say(f"compose project {plan.compose.project}: nothing running to stop")
    if plan.state_paths:
        removed = state.remove_state(plan.workspace, plan.state_paths)
        say(f"deleted {len(removed)} state path(s) in {plan.workspace}")
    if plan.run_data:
        with run_data.locked(plan.data_root, on_wait=lambda: say(
                f"waiting for a `weaviate-dev run` that is starting under {plan.data_root}")):
            # checked again: a Weaviate may have started since preflight
            run_data.refuse_if_running(plan.data_root, done=(
                "the compose services were stopped; nothing was deleted or started"))
            removed = run_data.remove(plan.data_root, plan.run_data)
        say(f"deleted the data and backups of the Weaviate profiles under {plan.data_root} "
            f"({len(removed)} director{'y' if len(removed) == 1 else 'ies'}; --keep-data keeps "
            "them)")
    if plan.image is not None:  # after down, the image the build replaced runs nowhere
        plan.image.remove_replaced()
    if not names:
        say("no service flag given: nothing to start")
        return
    say(f"starting {', '.join(names)}")
    started = time.monotonic()
    try:
        # not captured: pulling a missing image can take minutes, and its progress should show
        plan.compose.run(plan.compose.up_argv(names))
        for service in plan.services:
            wait_for(plan, service, plan.timeout_for(service))
    except KeyboardInterrupt:
        say("interrupted: stopping what was started")
        plan.compose.run(plan.compose.down_argv(), capture=True, check=False)
        raise
    say(f"all services ready after {time.monotonic() - started:.1f}s")
    if RERANKER_SERVICE in names:
        service = next(s for s in plan.services if s.name == RERANKER_SERVICE)
        serving = reranker_image.describe_serving(service.url(plan.bind_address),
                                                  plan.reranker_image)
        say(f"{RERANKER_SERVICE} serves {serving}")
    if KEYCLOAK_SERVICE in names:
        service = next(s for s in plan.services if s.name == KEYCLOAK_SERVICE)
        outcome = keycloak.create_user(service.url(plan.bind_address))
        say(f"keycloak demo user johndoe/johndoe in realm weaviate: {outcome}")
    for service in plan.services:
        print(f"{service.name:26} {service.url(plan.bind_address)}", flush=True)


def stop_project(settings: Settings, *, workspace: str | None = None,
                 project: str = compose_mod.DEFAULT_PROJECT) -> None:
    """Stop and remove the containers of our compose project, as `weaviate-dev down` does,
    without printing compose's output."""
    compose = compose_mod.for_project(settings, project=project,
                                      workspace=state.resolve_workspace(workspace or "."))
    say(f"stopping project {project}")
    compose.run(compose.down_argv(), capture=True, check=False)


def wait_for(plan: Plan, service: Service, timeout: float) -> float:
    """Wait until `service` is ready and return the seconds it took. On a timeout, raise
    WaitTimeout with the service's last log lines."""
    where = f"{probe_host(plan.bind_address)}:{service.ports[0].host}"
    say(f"waiting for {service.name} on {where} (up to {timeout:g}s)")
    took = wait_until(
        service.readiness_probe(plan.bind_address),
        what=f"{service.name} ({probe_text(service, where)})",
        timeout=timeout,
        logs=lambda: plan.compose.logs_tail(service.name, LOG_TAIL_LINES),
    )
    say(f"{service.name} ready in {took:.1f}s")
    return took
