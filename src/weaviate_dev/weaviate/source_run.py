"""Start Weaviate from a source tree for `weaviate-dev run`.

`run` first compiles the tree into the build cache (a release build, or a debug build for
Delve), then runs the binary in the tree, under Delve with --debug. This module also makes the
line --dry-run prints for the compile. The original `debug` profile still runs `dlv debug`.
"""

from __future__ import annotations

from pathlib import Path

from weaviate_dev.core import process
from weaviate_dev.core.errors import UsageError
from weaviate_dev.core.progress import say
from weaviate_dev.core.settings import Settings
from weaviate_dev.weaviate import build as weaviate_build, delve, source as weaviate_source
from weaviate_dev.weaviate.profile_types import Resolved
from weaviate_dev.weaviate.source import Command, WeaviateSource


def compiles(source: WeaviateSource, plan: Resolved) -> bool:
    """Return True when `run` compiles this source first: a source tree, except under the
    original `debug` profile, which runs `dlv debug`."""
    return source.kind == "source" and plan.runner != "dlv"


def check_loop_flags(source: WeaviateSource, plan: Resolved, *, debug: bool,
                     watch: bool) -> None:
    """Raise UsageError when --debug or --watch is given without a source tree that `run`
    compiles."""
    for flag, wanted in (("--debug", debug), ("--watch", watch)):
        if not wanted:
            continue
        if plan.runner == "dlv":
            raise UsageError(f"{flag}: the {plan.profile} profile runs `dlv debug` itself")
        if source.kind != "source":
            raise UsageError(f"{flag} builds Weaviate from source: run inside a Weaviate "
                             "checkout or pass --weaviate-src DIR (not a binary or an image)")


def command(settings: Settings, source: WeaviateSource, plan: Resolved, *, compiled: bool,
            debug: bool = False, debug_port: int = delve.DEFAULT_PORT) -> Command:
    """Return the command that runs `plan` from `source`, under Delve when `debug` is set.

    With `compiled`, a source tree is compiled first (and Delve installed for `debug`);
    without it, the binary paths are only named, for --dry-run.
    """
    if not compiles(source, plan):
        return weaviate_source.command(source, plan)
    debugger = None
    if debug:
        dlv = delve.ensure_delve(settings) if compiled else delve.dlv_path(settings)
        debugger = delve.Debugger(dlv, debug_port)
    if compiled:
        built = weaviate_build.compile_checkout(
            settings, source.path, ldflags=weaviate_source.build_ldflags(source.path),
            debug=debug)
        if debugger is not None:
            say(debugger.attach_line())
    else:
        built = weaviate_build.checkout_binary(settings, source.path, debug=debug)
    return weaviate_source.command(source, plan, built=built, debugger=debugger)


def build_line(settings: Settings, checkout: Path, *, debug: bool = False) -> str:
    """Return the `go build` line that --dry-run prints for compiling a source tree."""
    output = weaviate_build.checkout_binary(settings, checkout, debug=debug)
    return f"cd {process.format_argv([str(checkout)])} && " + process.format_argv(
        weaviate_build.build_argv(output, ldflags="...", debug=debug))


def prebuild_debug(settings: Settings) -> Path:
    """Compile the debug build of the pinned Weaviate source ahead of time; return its path.

    This takes minutes the first time (every package without optimisations); `run --debug`
    on that tree then only links. A run that starts meanwhile waits for this build (the build
    lock).
    """
    source = weaviate_build.ensure_source(settings)
    return weaviate_build.compile_checkout(settings, source,
                                           ldflags=weaviate_source.build_ldflags(source),
                                           debug=True)
