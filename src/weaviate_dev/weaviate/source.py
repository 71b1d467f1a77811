"""Find Weaviate for `weaviate-dev run`: a source checkout, a binary, or an image.

Order (first match wins):
  1. --weaviate-src DIR                      that checkout, compiled (go build) and run
  2. --weaviate-bin PATH                     that binary
  3. --image [TAG]                           docker run TAG (default Settings.weaviate_image)
  4. a Weaviate checkout containing the current directory (auto-detected)
  5. WEAVIATE_DEV_WEAVIATE_BIN (Settings.weaviate_bin)
  6. the binary `weaviate-dev setup` builds (weaviate_build.binary_path)
  7. ~/go/bin/weaviate-server, then weaviate-server on PATH
  8. without Go (nothing could build a binary): Weaviate's image (Settings.weaviate_image, at
     the pinned version), pulled when missing
`command()` then turns a resolved profile into the exact argv, working directory and
environment. A checkout is compiled once into the cache with the build-info -ldflags of the
original script (build.compile_checkout), and its binary runs in the checkout.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from weaviate_dev.core import process
from weaviate_dev.core.errors import DevError, UsageError
from weaviate_dev.core.settings import Settings
from weaviate_dev.weaviate import build as weaviate_build
from weaviate_dev.weaviate.profile_types import Resolved

MODULE_LINE = "module github.com/weaviate/weaviate"
BUILD_PREFIX = "github.com/weaviate/weaviate/usecases/build"


@dataclass(frozen=True)
class WeaviateSource:
    """A way to start Weaviate: kind is "source", "binary" or "image"."""

    kind: str
    path: Path | None = None  # the checkout (source) or the binary
    image: str | None = None
    why: str = ""  # how it was chosen, for the start line

    def describe(self) -> str:
        """Return e.g. "binary /path/weaviate-server (--weaviate-bin)"."""
        target = self.image if self.kind == "image" else self.path
        return f"{self.kind} {target} ({self.why})"


@dataclass(frozen=True)
class Command:
    """The exact process to start: argv, working directory and added environment."""

    argv: tuple[str, ...]
    cwd: Path | None
    env: Mapping[str, str]  # the profile's variables (added to the caller's environment)
    container: str | None = None  # the `docker run --name` of an image

    def shell_line(self) -> str:
        """Return argv as one line a shell can run."""
        return process.format_argv(self.argv)


def is_checkout(path: Path) -> bool:
    """True when path is the root of a Weaviate source checkout."""
    go_mod = path / "go.mod"
    if not go_mod.is_file() or not (path / "cmd" / "weaviate-server").is_dir():
        return False
    try:
        first = go_mod.read_text(errors="replace").splitlines()[:5]
    except OSError:
        return False
    return any(line.strip() == MODULE_LINE for line in first)


def find_checkout(start: Path) -> Path | None:
    """Return the Weaviate checkout that contains `start` (or is `start`), or None."""
    start = start.resolve()
    for candidate in (start, *start.parents):
        if is_checkout(candidate):
            return candidate
    return None


def locate(
    settings: Settings,
    *,
    src: str | None = None,
    binary: str | None = None,
    image: str | None = None,
    cwd: Path | None = None,
    home: Path | None = None,
    which: Callable[[str], str | None] = shutil.which,
) -> WeaviateSource:
    """Choose where Weaviate comes from, in the order the module docstring lists."""
    chosen = [flag for flag, v in (("--weaviate-src", src), ("--weaviate-bin", binary),
                                   ("--image", image)) if v is not None]
    if len(chosen) > 1:
        raise UsageError(f"choose one of {', '.join(chosen)}")
    if src is not None:
        path = Path(src).expanduser().resolve()
        if not is_checkout(path):
            raise UsageError(f"--weaviate-src {path} is not a Weaviate checkout "
                             f"(needs go.mod with '{MODULE_LINE}' and cmd/weaviate-server)")
        return WeaviateSource("source", path, why="--weaviate-src")
    if binary is not None:
        path = Path(binary).expanduser().resolve()
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise UsageError(f"--weaviate-bin {path} is not an executable file")
        return WeaviateSource("binary", path, why="--weaviate-bin")
    if image is not None:
        return WeaviateSource("image", image=image or settings.weaviate_image, why="--image")
    checkout = find_checkout(cwd or Path.cwd())
    if checkout is not None:
        return WeaviateSource("source", checkout, why="current directory is inside it")
    if settings.weaviate_bin is not None:
        if not settings.weaviate_bin.is_file():
            raise DevError(f"WEAVIATE_DEV_WEAVIATE_BIN={settings.weaviate_bin} does not exist")
        return WeaviateSource("binary", settings.weaviate_bin, why="WEAVIATE_DEV_WEAVIATE_BIN")
    candidates = [(weaviate_build.binary_path(settings), "built by weaviate-dev setup"),
                  ((home or Path.home()) / "go" / "bin" / "weaviate-server", "~/go/bin")]
    on_path = which("weaviate-server")
    if on_path:
        candidates.append((Path(on_path), "on PATH"))
    for path, why in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return WeaviateSource("binary", path, why=why)
    if which("go") is None:
        return WeaviateSource("image", image=settings.weaviate_image,
                              why="no Weaviate checkout, binary or Go toolchain here: "
                                  "Weaviate's image, pulled when missing")
    raise DevError(
        "no Weaviate found: run inside a Weaviate checkout or pass --weaviate-src DIR, "
        "--weaviate-bin PATH (or set WEAVIATE_DEV_WEAVIATE_BIN), or --image [TAG]; "
        "`weaviate-dev setup` builds a binary")


def build_ldflags(
    checkout: Path,
    *,
    git: Callable[[list[str]], str] | None = None,
    now: datetime | None = None,
    user: str | None = None,
    host: str | None = None,
) -> str:
    """Return the -ldflags that stamp build info as the original script did: branch, short
    revision, user@host and UTC date."""
    def run_git(args: list[str]) -> str:
        # "unknown" without git, and for a tree that is not a repository's root (a module
        # copy has no .git; inside another repository git would name that one's revision)
        try:
            top = process.run(["git", "-C", str(checkout), "rev-parse", "--show-toplevel"],
                              capture=True, check=False)
            if top.returncode or Path(top.stdout.strip()).resolve() != checkout.resolve():
                return "unknown"
            result = process.run(["git", "-C", str(checkout), *args], capture=True, check=False)
        except DevError:
            return "unknown"
        return result.stdout.strip() if result.returncode == 0 else "unknown"

    git = git or run_git
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")
    who = f"{user or getpass.getuser()}@{host or socket.gethostname()}"
    values = {
        "Branch": git(["rev-parse", "--abbrev-ref", "HEAD"]),
        "Revision": git(["rev-parse", "--short", "HEAD"]),
        "BuildUser": who,
        "BuildDate": stamp,
    }
    return " ".join(f"-X {BUILD_PREFIX}.{key}={value}" for key, value in values.items())


def command(
    source: WeaviateSource,
    plan: Resolved,
    *,
    built: Path | None = None,
    debugger=None,
    uid_gid: tuple[int, int] | None = None,
) -> Command:
    """Return the exact command that runs `plan` from `source`.

    A source tree runs `built`, its compiled server (weaviate_build.compile_checkout), in the
    tree, under `debugger` (a delve.Debugger) when given. The original's `debug` profile runs
    `dlv debug` there instead.
    """
    args = list(plan.server_args)
    if source.kind == "source":
        if plan.runner == "dlv":
            argv = ["dlv", "debug", weaviate_build.SERVER_PACKAGE, "--", *args]
        elif built is None:
            raise DevError(f"{source.path}: a source tree must be compiled before it runs")
        elif debugger is not None:
            argv = debugger.argv(built, args)
        else:
            argv = [str(built), *args]
        return Command(tuple(argv), source.path, plan.env)
    if source.kind == "binary":
        if plan.runner == "dlv":
            argv = ["dlv", "exec", str(source.path), "--", *args]
        else:
            argv = [str(source.path), *args]
        return Command(tuple(argv), plan.state_dir, plan.env)
    if plan.runner == "dlv":
        raise UsageError(f"profile {plan.profile} runs Weaviate under dlv; use a checkout "
                         "(--weaviate-src) or a binary (--weaviate-bin), not --image")
    uid, gid = uid_gid or (os.getuid(), os.getgid())
    mounts = sorted({str(plan.state_dir), str(plan.data_dir)})
    name = "weaviate-dev-run-" + "".join(c if c.isalnum() else "-" for c in plan.label)
    argv = ["docker", "run", "--rm", "--name", name, "--network", "host",
            "--user", f"{uid}:{gid}"]
    for mount in mounts:
        argv += ["-v", f"{mount}:{mount}"]
    for key, value in plan.env.items():
        argv += ["-e", f"{key}={value}"]
    argv += [source.image, *args]
    return Command(tuple(argv), None, {}, container=name)
