"""The mark `weaviate-dev run` leaves in each data or backups directory it creates, so that
`restart` deletes only directories that run made (run_data.py).

The mark is a small JSON file, `.weaviate-dev`, inside the directory: who made it, for which
profile, where (the path relative to the data root) and when. Weaviate ignores files it does
not know in its data and backups directories. A directory that existed before run started is
not marked: run did not make it. A marked directory copied or moved to another place under the
data root keeps its mark, but the mark names the place where run made it, so it counts as run's
only there.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from weaviate_dev import __version__

NAME = ".weaviate-dev"
MAKER = "weaviate-dev run"


def place(directory: Path, data_root: Path) -> str:
    """Return where `directory` is: its path relative to the data root when it is inside it,
    else its absolute path."""
    try:
        return Path(directory).relative_to(data_root).as_posix()
    except ValueError:
        return str(directory)


def make(directory: Path, data_root: Path, profile: str) -> None:
    """Create `directory` (with its parents) and mark it as made by run for `profile`. A
    directory that exists already is left as it is, without a mark."""
    directory = Path(directory)
    try:
        directory.mkdir(parents=True)
    except FileExistsError:
        return
    mark = {"made_by": MAKER, "version": __version__, "profile": profile,
            "path": place(directory, data_root),
            "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
    (directory / NAME).write_text(json.dumps(mark, indent=1) + "\n")


def made_here(directory: Path, data_root: Path) -> bool:
    """Return whether `directory`'s mark says that run made it at this place under
    data_root."""
    try:
        mark = json.loads((Path(directory) / NAME).read_text())
    except (OSError, ValueError):
        return False
    return (isinstance(mark, dict) and mark.get("made_by") == MAKER
            and mark.get("path") == place(directory, data_root))
