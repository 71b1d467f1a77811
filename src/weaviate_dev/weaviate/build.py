"""The weaviate-server binary, built from Weaviate's Go module at a pinned version.

`go mod download -json github.com/weaviate/weaviate@vX.Y.Z` names the module's directory in
Go's (read-only) module cache; a writable copy of it goes to a per-version folder of the
user's cache (`.../weaviate-X.Y.Z/src`, a Weaviate source tree without .git), and
`go build ./cmd/weaviate-server` there makes the binary. `weaviate-dev run --weaviate-src`
on that same copy then finds every package in Go's build cache and only links (Go keys the
cache of a main module's packages by their directory). An existing binary is not rebuilt.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from weaviate_dev.core import process
from weaviate_dev.core.errors import DevError
from weaviate_dev.core.progress import say
from weaviate_dev.core.settings import Settings

MODULE = "github.com/weaviate/weaviate"
SERVER_PACKAGE = "./cmd/weaviate-server"


def binary_dir(settings: Settings) -> Path:
    return settings.cache_dir / f"weaviate-{settings.weaviate_version}"


def binary_path(settings: Settings) -> Path:
    """Where the binary is: the configured one, or our per-version build."""
    return settings.weaviate_bin or binary_dir(settings) / "weaviate-server"


def source_dir(settings: Settings) -> Path:
    """The writable copy of the pinned Weaviate module source (a --weaviate-src tree)."""
    return binary_dir(settings) / "src"


def go() -> str:
    found = shutil.which("go")
    if not found:
        raise DevError("Go is needed to build Weaviate from its module; install Go >= 1.24 "
                       "or set WEAVIATE_DEV_WEAVIATE_BIN to a weaviate-server binary")
    return found


def ensure_source(settings: Settings) -> Path:
    """The pinned module's source as a writable tree, copied from Go's module cache once."""
    target = source_dir(settings)
    if target.is_dir():  # complete: the copy is renamed into place only when done
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    module = f"{MODULE}@v{settings.weaviate_version}"
    say(f"downloading the Go module {module}")
    # cwd outside any module, so that the download is not resolved against one
    out = process.run([go(), "mod", "download", "-json", module], capture=True,
                      cwd=target.parent).stdout
    try:  # stderr is merged into the output: the JSON object is what is between the braces
        info = json.loads(out[out.index("{"):out.rindex("}") + 1])
    except ValueError:
        raise DevError(f"go mod download -json {module} printed no module: {out[-500:]}") from None
    if info.get("Error") or not info.get("Dir"):
        raise DevError(f"go mod download {module}: {info.get('Error') or 'no Dir'}")
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(info["Dir"], partial, symlinks=True)
    for root, dirs, files in os.walk(partial):  # the module cache is read-only
        for name in [*dirs, *files]:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                os.chmod(path, os.stat(path).st_mode | 0o200)
    os.chmod(partial, os.stat(partial).st_mode | 0o200)
    partial.rename(target)
    say(f"Weaviate {settings.weaviate_version} source in {target}")
    return target


def go_build(checkout: Path, output: Path, *, ldflags: str = "") -> float:
    """`go build` the server of a checkout into output (with -ldflags, e.g. the original's
    build info: weaviate_source.build_ldflags); seconds taken."""
    started = time.monotonic()
    output.parent.mkdir(parents=True, exist_ok=True)
    process.run([go(), "build", "-ldflags", ldflags, "-o", str(output), SERVER_PACKAGE],
                cwd=checkout)
    if not output.is_file():
        raise DevError(f"go build finished but {output} is missing")
    return time.monotonic() - started


def ensure_binary(settings: Settings) -> Path:
    """Return a weaviate-server binary, building it from the module's source when missing."""
    path = binary_path(settings)
    if path.is_file():
        return path
    if settings.weaviate_bin:
        raise DevError(f"WEAVIATE_DEV_WEAVIATE_BIN={path} does not exist")
    go()
    source = ensure_source(settings)
    say(f"building Weaviate {settings.weaviate_version} in {source} (about 5 minutes the "
        "first time)")
    took = go_build(source, path)
    say(f"built {path} in {took:.0f}s")
    return path
