"""Find the data that `weaviate-dev run` keeps under its data root, and decide which of it
`restart` deletes.

The original `restart_dev_environment.sh` deleted the dev server's data (`data`,
`data-weaviate-N`, `backups-weaviate-N`), so that the documented two commands started an empty
Weaviate. Our `run` keeps each profile's state in `<data root>/<profile>/` and each cluster
node's in `<data root>/<cluster>-cluster/weaviate-N/` (profiles.py). `restart` deletes their
`data/` and `backups/` directories and keeps the logs and run records.

restart deletes only what run made. A `data/` or `backups/` directory counts as run's when its
mark says that run made it at that place (marker.py), or when it sits exactly where run keeps
a profile's or a cluster node's data: `<profile>/data` for a profile of the table
(profiles.yaml), `<profile>/backups` for a profile that uses filesystem backups, and the same
under `<cluster>-cluster/weaviate-N/` for a cluster of the table. The second rule covers data
that run made before it left marks. Any other directory (`myproject/data`) is left alone and
named. A data root that is `/` or the home directory, or that contains the project or the
current checkout, is refused outright.

Nothing is deleted while a Weaviate runs on it: `refuse_if_running` names the Weaviate and
says how to stop it. `restart` checks before it starts its work and again right before it
deletes, while it holds the data root's lock (`locked`). `run` holds the same lock while it
makes its directories and records what it starts, so a Weaviate that starts in between is
either seen by the check or starts after the deletion.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from weaviate_dev.core import locks, state
from weaviate_dev.core.errors import DevError
from weaviate_dev.core.progress import say
from weaviate_dev.weaviate import marker, running
from weaviate_dev.weaviate.profiles import BACKUPS, ProfileCatalog

CANDIDATES = ("*/data", "*/backups", "*-cluster/weaviate-*/data", "*-cluster/weaviate-*/backups")
NODE = re.compile(r"weaviate-(0|[1-9][0-9]*)")
LOCK = ".weaviate-dev.lock"


@dataclass(frozen=True)
class Found:
    """The data and backups directories found under a data root: run's (`ours`) and the
    others."""

    ours: list[Path]
    others: list[Path]  # not made by run: never deleted


def find(data_root: Path, catalog: ProfileCatalog | None = None) -> Found:
    """Return the data and backups directories under data_root, sorted into run's and the
    others."""
    data_root = Path(data_root)
    if not data_root.is_dir():
        return Found([], [])
    layout = Layout(catalog or ProfileCatalog.load())
    ours, others = [], []
    for path in state.find_state(data_root, CANDIDATES):
        made_by_run = path.is_dir() and not path.is_symlink() and (
            marker.made_here(path, data_root)
            or layout.is_data_or_backups(path.relative_to(data_root)))
        (ours if made_by_run else others).append(path)
    return Found(ours, others)


class Layout:
    """The places where run keeps the data and backups of each profile of the table."""

    def __init__(self, catalog: ProfileCatalog) -> None:
        self.profile_has_backups: dict[str, bool] = {}  # single-node profiles only
        self.cluster_has_backups: dict[str, bool] = {}  # by cluster name
        for profile in catalog.profiles.values():
            if profile.kind == "helper":
                continue
            env = [*profile.env.values(),
                   *(v for option in profile.options.values() for v in option.env.values())]
            backups = any(BACKUPS in value for value in env)
            if profile.kind == "cluster":
                self.cluster_has_backups[profile.cluster] = (
                    self.cluster_has_backups.get(profile.cluster) or backups)
            else:
                self.profile_has_backups[profile.name] = backups

    def is_data_or_backups(self, relative: Path) -> bool:
        """Return whether `relative` (a path relative to the data root) is exactly a profile's
        or a cluster node's data or backups directory."""
        *home, leaf = relative.parts
        if leaf not in ("data", "backups"):
            return False
        if len(home) == 1 and home[0] in self.profile_has_backups:
            return leaf == "data" or self.profile_has_backups[home[0]]
        if len(home) == 2 and home[0].endswith("-cluster") and NODE.fullmatch(home[1]):
            cluster = home[0].removesuffix("-cluster")
            return cluster in self.cluster_has_backups and (
                leaf == "data" or self.cluster_has_backups[cluster])
        return False


def checkout_around(start: Path) -> Path | None:
    """Return the git checkout that contains `start` (the nearest directory with a `.git`),
    or None."""
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory
    return None


def refuse_unsafe_root(data_root: Path, projects: Sequence[Path],
                       cwd: Path | None = None) -> None:
    """Raise DevError (one line) when data_root is `/`, or is or contains the home directory,
    one of `projects` (the toolkit's tree) or the git checkout around the current directory."""
    root = Path(data_root).resolve()
    protected = [("the home directory", Path.home()),
                 *(("the weaviate-dev project", project) for project in projects),
                 ("the current checkout", checkout_around((cwd or Path.cwd()).resolve()))]
    what = "is the filesystem root" if root == Path(root.anchor) else next(
        (f"is or contains {name} {path}" for name, path in protected
         if path is not None and (root == path.resolve() or root in path.resolve().parents)),
        None)
    if what:
        raise DevError(f"refusing to delete the data of `run` under {data_root}: it {what}; "
                       "give --data-dir the directory `run` keeps its data in, or keep the "
                       "data with --keep-data")


def refuse_if_running(data_root: Path, done: str = "nothing was stopped, deleted or "
                      "started") -> None:
    """Raise DevError naming every Weaviate that `run` has running on data under data_root,
    and every `run` still waiting for its Weaviate (a --watch between two builds). The
    message ends with `done`, which says what was done before the check."""
    records = [record for run_file in running.recorded(data_root)
               for record in run_file.records()]
    live = [f"Weaviate {r.label} (pid {r.pid})" for r in records if r.alive()]
    live += [f"weaviate-dev run for {r.label} (pid {r.owner})" for r in records
             if not r.alive() and r.owner_alive()]
    if live:
        raise DevError(f"{', '.join(dict.fromkeys(live))} is running on the data restart would "
                       f"delete under {data_root}: stop it first (`weaviate-dev down`), or keep "
                       f"the data with --keep-data; {done}")


@contextmanager
def locked(data_root: Path, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold the data root's lock while entered. `restart` holds it while it checks and
    deletes, `run` while it makes its directories and records what it starts."""
    with locks.held(Path(data_root) / LOCK, on_wait=on_wait):
        yield


def held_while_starting(data_root: Path) -> ExitStack:
    """Take the data root's lock for `run` and return it. run holds it from before it makes
    its directories until it has recorded what it started; `.close()` releases it, and a
    second `.close()` does nothing."""
    hold = ExitStack()
    hold.enter_context(locked(data_root, on_wait=lambda: say(
        f"waiting for another weaviate-dev that uses {data_root} (a restart that deletes "
        "data, or a run that is starting)")))
    return hold


def remove(data_root: Path, paths: Sequence[Path]) -> list[Path]:
    """Delete `paths` (run's directories, as `find` returns them), inside data_root only and
    never through a symlink; return the paths deleted."""
    return state.remove_state(Path(data_root), paths)
