"""The one place that runs subprocesses: argv lists only, logged, typed errors."""

from __future__ import annotations

import logging
import shlex
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
