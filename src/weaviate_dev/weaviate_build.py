"""The weaviate-server binary, built from Weaviate's Go module at a pinned version.

`go install github.com/weaviate/weaviate/cmd/weaviate-server@vX.Y.Z` into a per-version
folder of the user's cache. Go's own module and build caches make a second build quick;
an existing binary is not rebuilt.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from weaviate_dev import process
from weaviate_dev.errors import DevError
from weaviate_dev.progress import say
from weaviate_dev.settings import Settings

MODULE = "github.com/weaviate/weaviate/cmd/weaviate-server"


def binary_dir(settings: Settings) -> Path:
    return settings.cache_dir / f"weaviate-{settings.weaviate_version}"


def binary_path(settings: Settings) -> Path:
    """Where the binary is: the configured one, or our per-version build."""
    return settings.weaviate_bin or binary_dir(settings) / "weaviate-server"


def ensure_binary(settings: Settings) -> Path:
    """Return a weaviate-server binary, building it with `go install` when missing."""
    path = binary_path(settings)
    if path.is_file():
        return path
    if settings.weaviate_bin:
        raise DevError(f"WEAVIATE_DEV_WEAVIATE_BIN={path} does not exist")
    go = shutil.which("go")
    if not go:
        raise DevError("Go is needed to build Weaviate from its module; install Go >= 1.24 "
                       "or set WEAVIATE_DEV_WEAVIATE_BIN to a weaviate-server binary")
    target = binary_dir(settings)
    target.mkdir(parents=True, exist_ok=True)
    say(f"building Weaviate {settings.weaviate_version} from its Go module "
        f"(about 5 minutes the first time) into {target}")
    env = dict(os.environ, GOBIN=str(target))
    process.run([go, "install", f"{MODULE}@v{settings.weaviate_version}"], env=env)
    if not path.is_file():
        raise DevError(f"go install finished but {path} is missing")
    return path
