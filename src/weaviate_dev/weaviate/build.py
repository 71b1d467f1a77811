"""Build the weaviate-server binary from Weaviate's Go module at a pinned version.

`go mod download -json github.com/weaviate/weaviate@vX.Y.Z` downloads the module into Go's
read-only module cache. We copy it to a writable folder for that version in the user's cache
(`.../weaviate-X.Y.Z/src`, a Weaviate source tree without .git) and run
`go build ./cmd/weaviate-server` there. Go keys its build cache by package directory, so a
later `weaviate-dev run --weaviate-src` on the same copy finds every package compiled and only
links. An existing binary is not rebuilt.

`run` compiles any source tree it starts the same way, into a cache folder of its own
(`checkout_binary`): a release build, or a debug build for Delve (optimisations and inlining
off). Go's build cache makes later compiles incremental. A failed compile raises CompileError
with the compiler's `file:line: message` lines.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from pathlib import Path

from weaviate_dev.core import locks, process
from weaviate_dev.core.errors import DevError
from weaviate_dev.core.progress import say
from weaviate_dev.core.settings import Settings

MODULE = "github.com/weaviate/weaviate"
SERVER_PACKAGE = "./cmd/weaviate-server"
# Delve's recommended flags: every package without optimisations and inlining
DEBUG_GCFLAGS = "all=-N -l"
COMPILER_LINE = re.compile(r"^\S+\.go:\d+(?::\d+)?: ")


class CompileError(DevError):
    """Raised when `go build` fails. `lines` are the compiler's `file:line: message` lines."""

    def __init__(self, checkout: Path, output: str):
        self.output = output
        self.lines = [line for line in output.splitlines() if COMPILER_LINE.match(line)]
        shown = self.lines or output.strip().splitlines()[-20:]
        super().__init__(f"go build failed in {checkout}:\n" + "\n".join(shown[:20]))


def binary_dir(settings: Settings) -> Path:
    """Return the cache folder of the pinned version's binary and source."""
    return settings.cache_dir / f"weaviate-{settings.weaviate_version}"


def binary_path(settings: Settings) -> Path:
    """Return the path of the weaviate-server binary: WEAVIATE_DEV_WEAVIATE_BIN when set,
    else our build of the pinned version."""
    return settings.weaviate_bin or binary_dir(settings) / "weaviate-server"


def source_dir(settings: Settings) -> Path:
    """Return the folder of the writable copy of the pinned Weaviate source (usable as
    --weaviate-src)."""
    return binary_dir(settings) / "src"


def go() -> str:
    """Return the path of the `go` command; raise DevError when Go is not installed."""
    found = shutil.which("go")
    if not found:
        raise DevError("building Weaviate needs Go: install Go 1.24 or later, or set "
                       "WEAVIATE_DEV_WEAVIATE_BIN to a weaviate-server binary")
    return found


def go_install(module: str, version: str, gobin: Path, program: str) -> Path:
    """A Go program from its module at a pinned version: `go install module@version` into
    `gobin`, once. A build under way in another process is waited for (a build lock), not done
    a second time. The program's path."""
    path = Path(gobin) / program
    with locks.held(path.parent.with_name(path.parent.name + ".lock")):
        if not path.is_file():
            say(f"installing {program} {version} (go install {module}@{version})")
            process.run([go(), "install", f"{module}@{version}"],
                        env={**os.environ, "GOBIN": str(path.parent)}, capture=True)
    return path


def ensure_source(settings: Settings) -> Path:
    """Download the pinned Weaviate module, copy it once to a writable source tree, and
    return the tree."""
    target = source_dir(settings)
    if target.is_dir():  # complete: the copy is renamed into place only when done
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    module = f"{MODULE}@v{settings.weaviate_version}"
    say(f"downloading the Go module {module}")
    # cwd outside any module, so that the download is not resolved against one
    out = process.run([go(), "mod", "download", "-json", module], capture=True,
                      cwd=target.parent).stdout
    try:  # stderr is merged into the output, so cut the JSON object out by its braces
        info = json.loads(out[out.index("{"):out.rindex("}") + 1])
    except ValueError:
        raise DevError(f"go mod download -json {module} printed no JSON: {out[-500:]}") from None
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
    say(f"copied the Weaviate {settings.weaviate_version} source to {target}")
    return target


def checkout_binary(settings: Settings, checkout: Path, *, debug: bool = False) -> Path:
    """Return the path where `run` puts the server compiled from `checkout` (one cache
    folder per tree)."""
    tree = checkout.resolve()
    key = hashlib.sha256(str(tree).encode()).hexdigest()[:12]
    flavour = "debug" if debug else "release"
    return settings.cache_dir / "builds" / f"{tree.name}-{key}" / flavour / "weaviate-server"


def build_argv(output: Path, *, ldflags: str = "", debug: bool = False) -> list[str]:
    """Return the `go build` command line, to be run in the source tree."""
    return ["go", "build", *(["-gcflags", DEBUG_GCFLAGS] if debug else []), "-ldflags", ldflags,
            "-o", str(output), SERVER_PACKAGE]


def go_build(checkout: Path, output: Path, *, ldflags: str = "", debug: bool = False) -> float:
    """Build the server of `checkout` into `output` and return the seconds it took.

    `ldflags` go to `go build -ldflags` (for example the build info from
    weaviate_source.build_ldflags); `debug` makes a build for Delve. The new binary replaces
    `output` only when the build succeeds, so a running server is left alone. Raises
    CompileError when the build fails.
    """
    started = time.monotonic()
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    argv = build_argv(partial, ldflags=ldflags, debug=debug)
    waiting = lambda: say(f"waiting for another build of {checkout} into {output.parent} "  # noqa: E731
                          "to finish (it compiles the same packages)")
    with locks.held(output.with_name(".build.lock"), on_wait=waiting):
        result = process.run([go(), *argv[1:]], cwd=checkout, capture=True, check=False)
        if result.returncode:
            partial.unlink(missing_ok=True)
            raise CompileError(checkout, result.stdout)
        if not partial.is_file():
            raise DevError(f"go build finished but {partial} is missing")
        os.replace(partial, output)
    return time.monotonic() - started


def compile_checkout(settings: Settings, checkout: Path, *, ldflags: str = "",
                     debug: bool = False) -> Path:
    """Compile `checkout` into its cache folder, print how long it took, and return the
    binary's path."""
    output = checkout_binary(settings, checkout, debug=debug)
    what = "a debug build (-gcflags 'all=-N -l') of " if debug else ""
    say(f"compiling {what}Weaviate in {checkout} (go build: minutes the first time, "
        "seconds once Go's build cache is filled)")
    took = go_build(checkout, output, ldflags=ldflags, debug=debug)
    say(f"compiled in {took:.1f}s: {output}")
    return output


def ensure_binary(settings: Settings) -> Path:
    """Return the path of a weaviate-server binary, building it from the pinned module's
    source when missing. A second process that asks meanwhile (a background `setup` and a
    test, two terminals) waits for the build under way and then uses its binary."""
    path = binary_path(settings)
    if path.is_file():
        return path
    if settings.weaviate_bin:
        raise DevError(f"WEAVIATE_DEV_WEAVIATE_BIN={path} does not exist")
    go()
    waiting = lambda: say(f"waiting for another process that is building Weaviate "  # noqa: E731
                          f"{settings.weaviate_version} into {path.parent}")
    with locks.held(binary_dir(settings) / ".setup.lock", on_wait=waiting):
        if path.is_file():  # built by the process we waited for
            return path
        source = ensure_source(settings)
        say(f"building Weaviate {settings.weaviate_version} in {source} (about 5 minutes the "
            "first time)")
        took = go_build(source, path)
        say(f"built {path} in {took:.0f}s")
    return path
