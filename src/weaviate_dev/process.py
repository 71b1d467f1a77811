"""The one place that runs subprocesses: argv lists only, logged, typed errors."""

from __future__ import annotations

import logging
import os
import shlex
import signal
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from weaviate_dev.errors import CommandFailed, DevError

log = logging.getLogger(__name__)


def format_argv(argv: Sequence[str]) -> str:
    """A shell-quoted rendering of argv, for logs and --dry-run output."""
    return shlex.join(str(a) for a in argv)


def run(
    argv: Sequence[str],
    *,
    check: bool = True,
    capture: bool = False,
    cwd: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    input: str | None = None,
) -> subprocess.CompletedProcess:
    """Run argv and wait. With capture, stdout and stderr are merged into `.stdout` (text).

    Raises CommandFailed (with the output) on a non-zero exit when check is true, and
    DevError when the program does not exist or the timeout passes.
    """
    argv = [str(a) for a in argv]
    log.debug("run: %s", format_argv(argv))
    try:
        result = subprocess.run(
            argv,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            timeout=timeout,
            input=input,
            text=True,
            stdout=subprocess.PIPE if capture else None,
            stderr=subprocess.STDOUT if capture else None,
        )
    except FileNotFoundError as exc:
        raise DevError(f"program not found: {argv[0]}") from exc
    except subprocess.TimeoutExpired as exc:
        raise DevError(f"timed out after {timeout}s: {format_argv(argv)}") from exc
    if check and result.returncode != 0:
        raise CommandFailed(argv, result.returncode, result.stdout or "")
    return result


def spawn(
    argv: Sequence[str],
    *,
    cwd: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    **popen_kwargs,
) -> subprocess.Popen:
    """Start argv without waiting (long-running servers). The caller owns the process."""
    argv = [str(a) for a in argv]
    log.debug("spawn: %s", format_argv(argv))
    try:
        return subprocess.Popen(
            argv, cwd=cwd, env=dict(env) if env is not None else None, **popen_kwargs
        )
    except FileNotFoundError as exc:
        raise DevError(f"program not found: {argv[0]}") from exc


def run_foreground(
    argv: Sequence[str],
    *,
    cwd: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    on_start=None,
    signals: Sequence[int] = (signal.SIGINT, signal.SIGTERM),
) -> int:
    """Run argv in its own process group and wait; forward `signals` to that whole group.

    Ctrl-C therefore reaches the server even behind a wrapper that ignores SIGINT (`go run`)
    or proxies it (`docker run`). `on_start(popen)` runs once the process exists. Returns the
    exit code, or 128+N when the process was killed by signal N. Call from the main thread.
    """
    proc = spawn(argv, cwd=cwd, env=env, start_new_session=True)

    def forward(signum, _frame):
        log.debug("forwarding signal %s to process group %s", signum, proc.pid)
        try:
            os.killpg(proc.pid, signum)
        except ProcessLookupError:
            pass

    previous = {sig: signal.signal(sig, forward) for sig in signals}
    try:
        if on_start is not None:
            on_start(proc)
        code = proc.wait()
    except BaseException:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 128 - code if code < 0 else code
