"""Load Weaviate's dev-server profiles from profiles.yaml and resolve one for `run`.

The types live in `profile_types`. This module is over 300 lines on purpose: `ProfileCatalog`
is the only code that reads profiles.yaml's vocabulary (groups, services, options, clusters
and their generated nodes, helpers, `vectorizer-none`), and splitting it across modules would
make a reader chase it.

A plan (`Resolved`) is everything `weaviate-dev run` needs to start one Weaviate process:
the environment variables the profile sets, the server flags, the ports and the profile's own
state directory. Cluster profiles are generated from a node index (`port_scheme`), so any
node count works and ports never collide. Nothing here reads the process environment: the
caller passes `environ` in.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from importlib import resources
from pathlib import Path

import yaml

from weaviate_dev.core.errors import DevError, UsageError
from weaviate_dev.weaviate.port_scheme import (ClusterPorts, check_cluster_ports,
                                               cluster_node_env, single_node_ports)
from weaviate_dev.weaviate.profile_types import Need, Option, Profile, Resolved
from weaviate_dev.services.catalog import Service, ServiceCatalog, load_catalog

CHECKOUT = "{checkout}"
PORT_REFERENCE = re.compile(r"\{port:([a-z0-9-]+)\}")
BACKUPS = "{backups}"
# Variables that only make sense when the variable named first is set (used when a
# {checkout} variable must be left out because Weaviate runs from a binary or an image).
DEPENDENT_VARIABLES = {
    "RUNTIME_OVERRIDES_PATH": ("RUNTIME_OVERRIDES_ENABLED", "RUNTIME_OVERRIDES_LOAD_INTERVAL"),
}


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that rejects a key given twice in one mapping (the last would win)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise DevError(f"profiles data: key {key!r} repeated {key_node.start_mark}")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def drop_vectorizer(spec: Mapping, env: dict[str, str], needs: list[Need]) -> str:
    """Apply profiles.yaml's `vectorizer-none` to `env` and `needs` in place; return a note
    on what changed."""
    dropped = [f"{key}={env.pop(key)}" for key in spec["drop-env"] if key in env]
    if "ENABLE_MODULES" in env:
        names = env["ENABLE_MODULES"].split(",")
        gone = [m for m in names if m in spec["drop-modules"]]
        kept = [m for m in names if m not in gone]
        if gone and kept:
            env["ENABLE_MODULES"] = ",".join(kept)
            dropped.append(f"{', '.join(gone)} from ENABLE_MODULES")
        elif gone:
            del env["ENABLE_MODULES"]
            dropped.append(f"ENABLE_MODULES (it named only {', '.join(gone)})")
    for need in [n for n in needs if n.what in spec["drop-needs"]]:
        needs.remove(need)
        dropped.append(f"the need for {need.what} on localhost:{need.port}")
    changed = []
    for key, value in spec["env"].items():
        if env.get(key) != str(value):
            changed.append(f"{key} {env.get(key, '(unset)')} -> {value}")
            env[key] = str(value)
    parts = ([f"dropped {', '.join(dropped)}"] if dropped else []) + changed
    return "--vectorizer none: " + ("; ".join(parts) if parts else "nothing to drop")


class ProfileCatalog:
    """All profiles of profiles.yaml, by name, in the file's order.

    A profile names services instead of repeating their settings: `services:` adds each
    service's `weaviate-env` (from compose/docker-compose.yml) and marks the service as
    needed; `needs:` names a service (or gives {what, port} for something outside compose);
    `{port:SERVICE}` in a value is replaced by that service's host port.
    """

    def __init__(self, data: Mapping, services: ServiceCatalog):
        self._services = services
        common = data["common"]
        self.overridable = self._strings(common["overridable"])
        self.fixed = self._strings(common["fixed"])
        self.changes = {str(k): str(v) for k, v in data["changes"].items()}
        self.cluster_ports = ClusterPorts(**data.get("cluster_ports", {}))
        server = data.get("server", {})
        self.default_port = int(server.get("port", 8080))
        self.default_timeout = server.get("timeout", "600s")
        self.groups = {name: self._strings(env) for name, env in data["groups"].items()}
        self.without_vectorizer = data["vectorizer-none"]
        self.profiles: dict[str, Profile] = {}
        for name, spec in data["profiles"].items():
            self._add(self._profile(name, spec, kind="server"))
        for cluster, spec in data["clusters"].items():
            for index, name in enumerate(spec["profiles"]):
                self._add(self._profile(
                    name, spec, kind="cluster", cluster=cluster, node=index,
                    description=f"{spec['description']} - node {index}",
                    fixes=spec.get("fixes", {}).get(name, ())))
                self.profiles[name] = replace(
                    self.profiles[name], ours=bool(spec.get("ours")),
                    members=len(spec["profiles"]))
        for name, spec in data["helpers"].items():
            self._add(Profile(
                name=name, description=spec["description"], kind="helper",
                replacement=spec["replacement"], then=tuple(spec.get("then", ())),
                fixes=tuple(spec.get("fixes", ()))))
        for profile in self.profiles.values():
            unknown = set(profile.fixes) - set(self.changes)
            if unknown:
                raise DevError(f"profile {profile.name}: unknown changes {sorted(unknown)}")

    @classmethod
    def load(cls, path: str | Path | None = None,
             services: ServiceCatalog | None = None) -> "ProfileCatalog":
        """Load profiles.yaml (the packaged one unless `path` is given) against the services
        of our compose file (unless `services` is given)."""
        if path is None:
            text = resources.files("weaviate_dev.weaviate").joinpath("profiles.yaml").read_text()
        else:
            text = Path(path).read_text()
        return cls(yaml.load(text, Loader=_UniqueKeyLoader), services or load_catalog())

    def _strings(self, mapping: Mapping | None) -> dict[str, str]:
        """Return `mapping` with its values as strings and service ports filled in."""
        return {str(k): self._expand(v) for k, v in (mapping or {}).items()}

    def _expand(self, value) -> str:
        """Return `value` as a string with every {port:SERVICE} replaced by that service's
        host port."""
        return PORT_REFERENCE.sub(lambda m: str(self._service(m[1]).host_ports[0]), str(value))

    def _service(self, name: str) -> Service:
        try:
            return self._services.service(name)
        except UsageError as exc:
            raise DevError(f"profiles data: {exc}") from None

    def _uses(self, spec: Mapping) -> tuple[dict[str, str], list[Need]]:
        """Return the environment and needs that a spec's `services:` and `needs:` add."""
        env: dict[str, str] = {}
        needs: list[Need] = []
        for name in spec.get("services") or ():
            env.update(self._service(name).weaviate_env())
            needs.append(self._need(name))
        needs += [self._need(item) for item in spec.get("needs") or ()]
        return env, needs

    def _need(self, item) -> Need:
        if isinstance(item, str):
            service = self._service(item)
            return Need(port=service.host_ports[0], flag=service.flag, what=service.name)
        return Need(port=int(item["port"]), what=item.get("what"))

    def _add(self, profile: Profile) -> None:
        if profile.name in self.profiles:
            raise DevError(f"profile {profile.name} defined twice")
        self.profiles[profile.name] = profile

    def _profile(self, name, spec, *, kind, cluster=None, node=None, description=None,
                 fixes=None) -> Profile:
        env: dict[str, str] = {}
        for group in spec.get("include", ()):
            if group not in self.groups:
                raise DevError(f"profile {name}: unknown group {group!r}")
            env.update(self.groups[group])
        service_env, needs = self._uses(spec)
        env.update(service_env)
        env.update(self._strings(spec.get("env")))
        options = {}
        for key, o in (spec.get("options") or {}).items():
            option_env, option_needs = self._uses(o)
            options[key] = Option(name=key, help=str(o.get("help", "")),
                                  env={**option_env, **self._strings(o.get("env"))},
                                  needs=tuple(option_needs))
        return Profile(
            name=name,
            description=self._expand(description or spec["description"]),
            kind=kind,
            env=env,
            port=int(spec.get("port", self.default_port)),
            timeout=spec.get("timeout", self.default_timeout),
            runner=spec.get("runner", "go"),
            cluster=cluster,
            node=node,
            nodes=int(spec["nodes"]) if cluster else None,
            options=options,
            needs=tuple(needs),
            notes=tuple(spec.get("notes", ())),
            fixes=tuple(fixes if fixes is not None else spec.get("fixes", ())),
        )

    def names(self) -> list[str]:
        return list(self.profiles)

    def cluster_heads(self) -> list[str]:
        """Return the node-0 profile of each cluster: the names usually given to
        `run --all-nodes`."""
        return [p.name for p in self.profiles.values() if p.kind == "cluster" and p.node == 0]

    def members(self, name: str, nodes: int | None = None) -> tuple[int, int]:
        """Return (voters, nodes) for the cluster of profile `name`.

        voters is the cluster's default, or `nodes` when given; nodes is the number of nodes
        the cluster lists, or voters when that is larger. Raises UsageError, listing the
        cluster profiles, when `name` is not a cluster profile.
        """
        heads = ", ".join(self.cluster_heads())
        if name not in self.profiles:
            raise UsageError(f"unknown profile {name!r}; cluster profiles: {heads}")
        profile = self.profiles[name]
        if profile.kind != "cluster":
            raise UsageError(f"{name} is not a cluster profile; cluster profiles: {heads}")
        voters = profile.nodes if nodes is None else nodes
        return voters, max(voters, profile.members)

    def get(self, name: str) -> Profile:
        """Return profile `name`; raise UsageError, suggesting close names, when there is none."""
        try:
            return self.profiles[name]
        except KeyError:
            close = [n for n in self.profiles if name in n][:3] or \
                difflib.get_close_matches(name, self.profiles, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise UsageError(f"unknown profile {name!r}{hint} (see --list)") from None

    def resolve(
        self,
        name: str,
        *,
        data_root: Path,
        environ: Mapping[str, str] | None = None,
        checkout: Path | None = None,
        node: int | None = None,
        nodes: int | None = None,
        options: Iterable[str] = (),
        relative_to: Path | None = None,
        vectorizer: str | None = None,
    ) -> Resolved:
        """Resolve profile `name` for one Weaviate process and return the result.

        environ: the caller's environment (only the common `${X:-default}` variables and
          PERSISTENCE_DATA_PATH are taken from it, as in the original).
        checkout: the Weaviate source checkout ({checkout}); None leaves such variables out.
        node/nodes: for cluster profiles, the node index and voter count to generate.
        relative_to: where a relative PERSISTENCE_DATA_PATH override is anchored.
        vectorizer: "none" drops the default vectorizer and contextionary (`vectorizer-none`).
        """
        environ = environ or {}
        profile = self.get(name)
        if profile.kind == "helper":
            raise UsageError(f"{name} is not a Weaviate profile; use: {profile.replacement}")
        for option in options:
            if option not in profile.options:
                raise UsageError(f"profile {name} has no option --{option}")
        if profile.kind != "cluster" and (node is not None or nodes is not None):
            raise UsageError(f"--node/--nodes only apply to cluster profiles, not {name}")
        if vectorizer not in (None, "none"):
            raise UsageError(f"--vectorizer: only 'none' is supported, not {vectorizer!r}")
        if vectorizer and "contextionary" in options:
            raise UsageError("--contextionary and --vectorizer none contradict each other")

        env = {key: (environ.get(key) or default) for key, default in self.overridable.items()}
        env.update(self.fixed)
        env.update(profile.env)
        port = profile.port
        ports: dict[str, int] = {"http": port}
        label = name
        members = None
        state_dir = Path(data_root) / name
        if profile.kind == "cluster":
            index = profile.node if node is None else node
            count = profile.nodes if nodes is None else nodes
            metrics = int(env["PROMETHEUS_MONITORING_PORT"])
            pprof = int(env["GO_PROFILING_PORT"])
            members = max(count, profile.members, index + 1)
            all_ports = [cluster_node_env(i, count, self.cluster_ports, metrics=metrics,
                                          pprof=pprof)[1]
                         for i in range(members)]
            check_cluster_ports(all_ports)
            node_env, ports = cluster_node_env(index, count, self.cluster_ports,
                                               metrics=metrics, pprof=pprof, members=members)
            env.update(node_env)
            port = ports["http"]
            node, nodes = index, count
            if index != profile.node:  # the name the cluster lists for it, if any
                label = next((p.name for p in self.profiles.values()
                              if p.cluster == profile.cluster and p.node == index),
                             f"{profile.cluster} cluster node {index}")
            state_dir = Path(data_root) / f"{profile.cluster}-cluster" / f"weaviate-{index}"
        else:
            ports.update(single_node_ports(env, self.cluster_ports))

        needs = list(profile.needs)
        for option in options:
            env.update(profile.options[option].env)
            needs.extend(profile.options[option].needs)
        notes = list(profile.notes)
        if vectorizer:
            notes.append(drop_vectorizer(self.without_vectorizer, env, needs))

        override = environ.get("PERSISTENCE_DATA_PATH")
        if override:
            data_dir = Path(override + (f"-weaviate-{node}" if profile.kind == "cluster" else ""))
            if not data_dir.is_absolute() and relative_to is not None:
                data_dir = Path(relative_to) / data_dir
        else:
            data_dir = state_dir / "data"
        env["PERSISTENCE_DATA_PATH"] = str(data_dir)

        for key, value in list(env.items()):
            if BACKUPS in value:
                env[key] = value.replace(BACKUPS, str(state_dir / "backups"))
            if CHECKOUT in value:
                if checkout is not None:
                    env[key] = value.replace(CHECKOUT, str(checkout))
                else:
                    dropped = [key, *DEPENDENT_VARIABLES.get(key, ())]
                    for k in dropped:
                        env.pop(k, None)
                    notes.append(f"left out {', '.join(dropped)}: {value} needs a Weaviate "
                                 "source checkout (--weaviate-src DIR)")

        server_args = ["--scheme", "http", "--host", "127.0.0.1", "--port", str(port)]
        if profile.timeout:
            server_args += [f"--read-timeout={profile.timeout}",
                            f"--write-timeout={profile.timeout}"]
        return Resolved(
            profile=name, label=label, env=dict(sorted(env.items())),
            server_args=tuple(server_args), port=port, ports=ports, state_dir=state_dir,
            data_dir=data_dir, runner=profile.runner, needs=tuple(needs), notes=tuple(notes),
            node=node, nodes=nodes, members=members,
        )
