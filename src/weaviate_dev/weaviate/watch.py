"""`weaviate-dev run --watch`: rebuild and restart Weaviate when its Go sources change.

watchfiles watches the tree (inotify, debounced). When a `.go` file of the server changes
(not `_test.go`, not under vendor/, testdata/ or the run's own data), the tree is compiled
into the same cached binary; build.go_build replaces it only when the compile succeeds. After
a good build the running Weaviate is stopped (SIGINT, as Ctrl-C) and the new one starts on
the same data directory. After a compile error the compiler's file:line lines are printed and
the running server stays up. Ctrl-C, SIGTERM or `weaviate-dev down` stop both; a second
Ctrl-C sends Weaviate SIGTERM, a third SIGKILL, as in `run`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

from watchfiles import DefaultFilter, watch

from weaviate_dev.core import process
from weaviate_dev.core.progress import say
from weaviate_dev.weaviate import groups, run_data, single_run
from weaviate_dev.weaviate.build import CompileError
from weaviate_dev.weaviate.profile_types import Resolved
from weaviate_dev.weaviate.running import RunFile

DEBOUNCE_MS = 800  # changes within this much of each other are one rebuild (an editor's save)
STOP_GRACE = 30.0  # seconds Weaviate gets to shut down before SIGTERM, then SIGKILL


class GoSources(DefaultFilter):
    """A watchfiles filter that passes the files whose changes rebuild the server: .go
    files, except tests and files under vendor/ or testdata/."""

    def __init__(self, ignore_paths=()):
        super().__init__(ignore_dirs=(*DefaultFilter.ignore_dirs, "vendor", "testdata"),
                         ignore_paths=tuple(str(p) for p in ignore_paths))

    def __call__(self, change, path: str) -> bool:
        return (path.endswith(".go") and not path.endswith("_test.go")
                and super().__call__(change, path))


def describe(changes, root: Path, shown: int = 3) -> str:
    """Return the changed files relative to the tree, e.g. `a.go, b/c.go (+2 more)`."""
    names = sorted({os.path.relpath(path, root) for _, path in changes})
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f" (+{more} more)" if more > 0 else "")


class SourceWatch:
    """One Weaviate from a source tree, rebuilt and restarted on every saved change."""

    def __init__(self, plan: Resolved, source, rebuild: Callable, timeout: float, environ):
        self.plan, self.source, self.rebuild = plan, source, rebuild
        self.timeout, self.environ = timeout, environ
        self.state = RunFile(plan.home)
        self.owner = groups.Member.current()
        self.stopping = threading.Event()
        self.signals = 0
        self.proc: subprocess.Popen | None = None  # the Weaviate running now

    def __call__(self) -> int:
        """Build and start Weaviate, then rebuild and restart it on each change until
        stopped; return Weaviate's last exit code."""
        command = self.rebuild()  # the first compile: an error ends the run
        root = self.source.path
        previous = {sig: signal.signal(sig, self._on_signal)
                    for sig in (signal.SIGINT, signal.SIGTERM)}
        with run_data.held_while_starting(self.plan.data_root):
            self.plan.make_dirs()
            say(f"{self.plan.label} from {self.source.describe()}; data in "
                f"{self.plan.data_dir}")
            say(f"http://127.0.0.1:{self.plan.port}; watching {root} for .go changes "
                "(Ctrl-C stops Weaviate and the watch)")
            proc = self._start(command)
        told_exit = False
        try:
            ignored = {self.plan.home, self.plan.data_dir}
            for changes in watch(root, watch_filter=GoSources(ignored), debounce=DEBOUNCE_MS,
                                 stop_event=self.stopping, yield_on_timeout=True,
                                 rust_timeout=1000, raise_interrupt=False):
                if self.stopping.is_set():
                    break
                if proc.poll() is not None and not told_exit:
                    told_exit = True
                    say(f"Weaviate exited with code {proc.returncode}; the next change "
                        "rebuilds and starts it (Ctrl-C quits)")
                if not changes:
                    continue
                say(f"changed: {describe(changes, root)}; rebuilding")
                started = time.monotonic()
                try:
                    command = self.rebuild()
                except CompileError as exc:
                    if self.stopping.is_set():  # Ctrl-C reached `go build` too
                        break
                    say("compile failed; the running Weaviate stays up:")
                    for line in exc.lines or str(exc).splitlines()[1:]:
                        say(f"  {line}")
                    continue
                # no Weaviate runs between the two: restart must not delete its data then
                with run_data.held_while_starting(self.plan.data_root):
                    self._stop(proc)
                    if self.stopping.is_set():  # Ctrl-C while the old one stopped
                        break
                    say(f"restarting Weaviate with the same data "
                        f"({time.monotonic() - started:.1f}s since the change)")
                    proc = self._start(command)
                told_exit = False
        finally:
            code = self._stop(proc)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.state.forget_dead()
        return code

    def _on_signal(self, signum, _frame) -> None:
        """The first Ctrl-C (or SIGTERM) ends the watch, which stops Weaviate with SIGINT;
        each further one escalates at once, as `run` does: SIGTERM, then SIGKILL."""
        self.signals += 1
        self.stopping.set()
        if self.signals == 1:
            say(f"interrupted ({signal.Signals(signum).name}): stopping Weaviate and the watch "
                "(again: SIGTERM, then SIGKILL)")
            return
        sent = signal.SIGTERM if self.signals == 2 else signal.SIGKILL
        single_run.interrupted(signal.Signals(signum), sent)
        if self.proc is not None:
            process.signal_group(self.proc.pid, sent)

    def _start(self, command) -> subprocess.Popen:
        proc = self.proc = process.spawn(command.argv, cwd=command.cwd,
                                         env={**self.environ, **command.env},
                                         start_new_session=True)
        single_run.record(self.state, self.plan, proc, self.owner, command)
        single_run.watch_ready(proc, self.plan, self.timeout)
        return proc

    def _stop(self, proc: subprocess.Popen) -> int:
        """Stop Weaviate as Ctrl-C does (SIGINT to its process group), then with SIGTERM and
        SIGKILL when it does not exit; return its exit code (128+N when signal N ended it)."""
        if proc.poll() is None:
            process.signal_group(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=STOP_GRACE)
            except subprocess.TimeoutExpired:
                say(f"Weaviate is still running {STOP_GRACE:.0f}s after SIGINT; sending "
                    "SIGTERM, then SIGKILL")
                process.stop_group(proc, timeout=10)
        process.drain_group(proc.pid, timeout=10)
        self.state.forget_dead()
        code = proc.returncode
        return 128 - code if code < 0 else code
