"""What `weaviate-dev run` keeps of each profile under its data root, as `restart` deletes it.

The original `restart_dev_environment.sh` deleted the dev server's data (`data`,
`data-weaviate-N`, `backups-weaviate-N`), so the documented two commands started an empty
Weaviate. Our `run` keeps each profile's state in `<data root>/<profile>/` and each cluster
node's in `<data root>/<cluster>-cluster/weaviate-N/` (profiles.py): their `data/` and
`backups/` are what `restart` deletes; logs and run records stay. Never under a Weaviate that
is running: `refuse_if_running` says which one and how to stop it.
"""

from __future__ import annotations

from pathlib import Path

from weaviate_dev.core import state
from weaviate_dev.core.errors import DevError
from weaviate_dev.weaviate import running

PATTERNS = ("*/data", "*-cluster/weaviate-*/data", "*/backups", "*-cluster/weaviate-*/backups")


def find(data_root: Path) -> list[Path]:
    """The data and backups directories of every profile under data_root (none: [])."""
    if not Path(data_root).is_dir():
        return []
    return state.find_state(Path(data_root), PATTERNS)


def refuse_if_running(data_root: Path) -> None:
    """DevError naming every Weaviate `run` has running on data under data_root."""
    live = [record for run_file in running.recorded(data_root)
            for record in run_file.records() if record.alive()]
    if live:
        names = ", ".join(f"{r.label} (pid {r.pid})" for r in live)
        raise DevError(f"Weaviate {names} is running on the data restart would delete under "
                       f"{data_root}: stop it first (`weaviate-dev down`), or keep the data "
                       "with --keep-data; nothing was stopped, deleted or started")


def remove(data_root: Path, paths: list[Path]) -> list[Path]:
    """Delete `paths` (found by `find`), inside data_root only, never through a symlink."""
    return state.remove_state(Path(data_root), paths)
