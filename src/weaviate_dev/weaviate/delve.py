"""Install and start Delve, the Go debugger, for `weaviate-dev run --debug`.

Delve is installed on first use from its Go module at a pinned version, into the cache like
the Weaviate binary (`go install github.com/go-delve/delve/cmd/dlv@VERSION` with GOBIN set).
A debug run starts Weaviate's debug build under a headless `dlv exec` on 127.0.0.1, which
IDEs and `dlv connect` attach to. Delve continues at once, so Weaviate starts just as it
would without the debugger.
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
    """Return where the pinned dlv is installed in the cache."""
    return settings.cache_dir / f"delve-{VERSION}" / "dlv"


def ensure_delve(settings: Settings) -> Path:
    """Return the path of the pinned dlv, installing it from its Go module first when it is
    missing (this takes seconds)."""
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
    """Delve running headless on 127.0.0.1:port with a debug build of Weaviate."""

    dlv: Path
    port: int = DEFAULT_PORT

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def argv(self, binary: Path, args) -> list[str]:
        """Return the command that starts `binary` with `args` under Delve."""
        return [str(self.dlv), "exec", str(binary), "--headless", "--listen", self.address,
                "--accept-multiclient", "--continue", "--api-version", "2", "--", *args]

    def attach_line(self) -> str:
        """Return the line that tells the user how to attach a debugger client."""
        return (f"debugger: Delve {VERSION} listens on {self.address}; attach with "
                f"`dlv connect {self.address}` or your IDE's Go remote attach (docs/run.md)")
