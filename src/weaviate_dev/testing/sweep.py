"""Remove what a test run left behind when it died, found by the run's label, in the next run.

A run that is SIGKILLed (the OOM killer, a CI timeout, `kill -9`) runs none of its fixtures'
cleanup: its containers, networks and temporary directories stay, holding ports, memory and
disk, and the next run trips over them. testcontainers' own reaper (Ryuk) would remove them,
but it is an image to pull, and our machines cannot pull images. So every container and
network that the fixtures make carries the label `LABEL` with the id of the run (`Run`: the
host, pid, start time and boot time of the process that made it; core/identity.py decides
whether that process still runs), and every temporary directory they make is named after the
run (`mkdtemp`). Once per pytest session, before its first container (`sweep_once`; our own
suites do it at the session's start, in the root conftest), everything left by runs that no
longer run is removed. What a live run owns (another terminal's pytest) is never touched, and
a run of another host (on a shared Docker engine) is not judged from here.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path

from weaviate_dev.core import scratch
from weaviate_dev.core.identity import Identity

log = logging.getLogger(__name__)

LABEL = "io.weaviate-dev.test-run"
DIR_PREFIX = "weaviate-dev-test-"


@dataclass(frozen=True)
class Run:
    """A test run: the process that makes containers, networks and directories."""

    host: str
    pid: int
    started: int  # the process's start time, in hundredths of a second since the epoch
    boot: int | None = None  # the boot time then, in hundredths of a second since the epoch

    @classmethod
    def current(cls) -> "Run":
        """Return the run of this process."""
        me = Identity.current()
        return cls(socket.gethostname(), me.pid, round(me.started * 100), round(me.boot * 100))

    @classmethod
    def parse(cls, text: str) -> "Run | None":
        """Return the run that a label names; None for a label we cannot read."""
        host, _, rest = text.rpartition("/")
        host, _, pid = host.rpartition("/")
        return cls.of_parts(host, pid, rest)

    @classmethod
    def of_parts(cls, host: str, pid: str, times: str) -> "Run | None":
        """Return the run of `host` from its pid and its `STARTED.BOOT` text (or `STARTED`, as
        runs wrote it before the boot time was added; an older sweep cannot read the newer
        form, so it leaves it alone). None when they are not numbers."""
        started, _, boot = times.partition(".")
        try:
            return cls(host, int(pid), int(started), int(boot) if boot else None)
        except ValueError:
            return None

    @property
    def times(self) -> str:
        """The start and boot times as labels and names carry them: `STARTED.BOOT`."""
        return str(self.started) + (f".{self.boot}" if self.boot is not None else "")

    def __str__(self) -> str:
        return f"{self.host}/{self.pid}/{self.times}"

    def alive(self) -> bool:
        """Whether the run's process still runs (core/identity.py). A run of another host
        counts as alive: its processes cannot be seen from here."""
        if self.host != socket.gethostname():
            return True
        boot = None if self.boot is None else self.boot / 100
        return Identity(self.pid, self.started / 100, boot).alive()


def labels() -> dict[str, str]:
    """Return the labels for a container or network that this run makes."""
    return {LABEL: str(Run.current())}


def mkdtemp(purpose: str) -> Path:
    """Make a temporary directory for this run and return its path. Its name carries the run,
    so that a later run can tell whether its maker still runs. The caller removes it; `sweep`
    does if the run dies first."""
    return Path(tempfile.mkdtemp(prefix=f"{DIR_PREFIX}{scratch.maker_tag()}-{purpose}-"))


def directory_run(path: Path) -> Run | None:
    """Return the run (on this host) that a temporary directory of `mkdtemp` belongs to; None
    when its name carries none."""
    pid, _, rest = path.name[len(DIR_PREFIX):].partition("-")
    times, _, _ = rest.partition("-")
    return Run.of_parts(socket.gethostname(), pid, times)


def sweep(docker_client=None, temp_dir: Path | None = None) -> list[str]:
    """Remove what dead runs left: their containers and networks on `docker_client`'s engine
    (none given: Docker is not looked at) and their directories in `temp_dir` (default: the
    system's temporary directory). Returns a line for each thing removed."""
    removed = _sweep_directories(Path(temp_dir or tempfile.gettempdir()))
    if docker_client is not None:
        removed += _sweep_docker(docker_client)
    return removed


def _sweep_directories(temp_dir: Path) -> list[str]:
    """Remove the directories in temp_dir of runs that no longer run (core/scratch.py, which
    names and sweeps the toolkit's own scratch the same way)."""
    return [f"directory {path} (run {directory_run(path)})"
            for path in scratch.sweep(temp_dir, DIR_PREFIX).paths]


def _sweep_docker(client) -> list[str]:
    """Remove the labelled containers and networks of runs that no longer run."""
    import docker.errors

    removed = []
    # Containers first: a network is removed only once no container is attached.
    found = [("container", c, c.labels)
             for c in client.containers.list(all=True, filters={"label": LABEL})]
    found += [("network", n, n.attrs.get("Labels") or {})
              for n in client.networks.list(filters={"label": LABEL})]
    for kind, item, item_labels in found:
        run = Run.parse(item_labels.get(LABEL, ""))
        if run is None or run.alive():
            continue
        try:
            item.remove(**({"force": True, "v": True} if kind == "container" else {}))
        except docker.errors.NotFound:
            continue  # removed meanwhile (another run's sweep)
        except docker.errors.APIError as exc:
            log.warning("cannot remove the %s %s of run %s: %s", kind, item.name, run, exc)
            continue
        removed.append(f"{kind} {item.name} (run {run})")
    return removed


_SWEPT_KEY = "_weaviate_dev_swept"


def sweep_once(docker_client, config) -> list[str]:
    """Run `sweep` the first time a session asks, and print what it removed on the terminal;
    later calls return []."""
    if getattr(config, _SWEPT_KEY, False):
        return []
    setattr(config, _SWEPT_KEY, True)
    removed = sweep(docker_client)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if removed and reporter is not None:
        capture = config.pluginmanager.get_plugin("capturemanager")
        # in a fixture's setup the output is captured: print on the terminal all the same
        with (capture.global_and_fixture_disabled() if capture is not None
              else contextlib.nullcontext()):
            reporter.write_line(f"weaviate-dev: removed {len(removed)} leftovers of test runs "
                                "that no longer run:")
            for line in removed:
                reporter.write_line(f"  {line}")
    return removed
