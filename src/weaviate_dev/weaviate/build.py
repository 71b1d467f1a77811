"""The weaviate-server binary, built from Weaviate's Go module at a pinned version.

`go mod download -json github.com/weaviate/weaviate@vX.Y.Z` names the module's directory in
Go's (read-only) module cache; a writable copy of it goes to a per-version folder of the
user's cache (`.../weaviate-X.Y.Z/src`, a Weaviate source tree without .git), and
`go build ./cmd/weaviate-server` there makes the binary. `weaviate-dev run --weaviate-src`
on that same copy then finds every package in Go's build cache and only links (Go keys the
cache of a main module's packages by their directory). An existing binary is not rebuilt.

Any source tree `run` starts from is compiled the same way, once, into a per-checkout folder
of the cache (`checkout_binary`): a release build, or a debug one for Delve (optimisations
and inlining off); Go's build cache makes the next compile incremental. A compile error is a
CompileError carrying the compiler's `file:line: message` lines.
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
    """`go build` failed; `lines` are the compiler's `file:line: message` lines."""

    def __init__(self, checkout: Path, output: str):
        self.output = output
        self.lines = [line for line in output.splitlines() if COMPILER_LINE.match(line)]
        shown = self.lines or output.strip().splitlines()[-20:]
        super().__init__(f"go build failed in {checkout}:\n" + "\n".join(shown[:20]))


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


def checkout_binary(settings: Settings, checkout: Path, *, debug: bool = False) -> Path:
    """Where `run` keeps the server compiled from `checkout` (one folder per tree)."""
    tree = checkout.resolve()
    key = hashlib.sha256(str(tree).encode()).hexdigest()[:12]
    flavour = "debug" if debug else "release"
    return settings.cache_dir / "builds" / f"{tree.name}-{key}" / flavour / "weaviate-server"


def build_argv(output: Path, *, ldflags: str = "", debug: bool = False) -> list[str]:
    """The `go build` command line (run in the source tree)."""
    return ["go", "build", *(["-gcflags", DEBUG_GCFLAGS] if debug else []), "-ldflags", ldflags,
            "-o", str(output), SERVER_PACKAGE]


def go_build(checkout: Path, output: Path, *, ldflags: str = "", debug: bool = False) -> float:
    """`go build` the server of a checkout into output (with -ldflags, e.g. the original's
    build info: weaviate_source.build_ldflags; `debug`: for Delve); seconds taken. The new
    binary replaces output only when the build succeeded (a running one is left alone);
    CompileError when it did not."""
    started = time.monotonic()
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    argv = build_argv(partial, ldflags=ldflags, debug=debug)
    waiting = lambda: say(f"waiting for another build of {checkout} into {output.parent} "  # noqa: E731
                          "(it compiles what this one needs)")
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
    """Compile `checkout` into its cache folder, saying so and how long it took; the binary."""
    output = checkout_binary(settings, checkout, debug=debug)
    what = "a debug build (-gcflags 'all=-N -l') of " if debug else ""
    say(f"compiling {what}Weaviate in {checkout} (go build; minutes the first time, "
        "seconds once Go's build cache has it)")
    took = go_build(checkout, output, ldflags=ldflags, debug=debug)
    say(f"compiled in {took:.1f}s: {output}")
    return output


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
