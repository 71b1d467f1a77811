"""Delve, the Go debugger, for `weaviate-dev run --debug`.

Delve comes from its Go module at a pinned version, installed on demand into the cache like
the Weaviate binary (`go install github.com/go-delve/delve/cmd/dlv@VERSION` with GOBIN set).
A debug run starts the debug build of Weaviate under `dlv exec` headless on 127.0.0.1 (what
IDEs and `dlv connect` attach to), continuing at once, so Weaviate starts as without it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from weaviate_dev.core import process
from weaviate_dev.core.progress import say
from weaviate_dev.core.settings import Settings
from weaviate_dev.weaviate import build as weaviate_build

MODULE = "github.com/go-delve/delve/cmd/dlv"
VERSION = "v1.27.2"
DEFAULT_PORT = 2345


def dlv_path(settings: Settings) -> Path:
    return settings.cache_dir / f"delve-{VERSION}" / "dlv"


def ensure_delve(settings: Settings) -> Path:
    """The pinned dlv, installed from its Go module when missing (seconds)."""
    path = dlv_path(settings)
    if path.is_file():
        return path
    go = weaviate_build.go()
    say(f"installing Delve {VERSION} (go install {MODULE}@{VERSION})")
    partial = path.parent.with_name(path.parent.name + ".partial")
    process.run([go, "install", f"{MODULE}@{VERSION}"],
                env={**os.environ, "GOBIN": str(partial)}, capture=True)
    partial.rename(path.parent)
    return path


@dataclass(frozen=True)
class Debugger:
    """Delve headless on 127.0.0.1:port around a debug build."""

    dlv: Path
    port: int = DEFAULT_PORT

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def argv(self, binary: Path, args) -> list[str]:
        return [str(self.dlv), "exec", str(binary), "--headless", "--listen", self.address,
                "--accept-multiclient", "--continue", "--api-version", "2", "--", *args]

    def attach_line(self) -> str:
        return (f"debugger: Delve {VERSION} listens on {self.address}; attach with "
                f"`dlv connect {self.address}` or your IDE's Go remote attach (docs/run.md)")
