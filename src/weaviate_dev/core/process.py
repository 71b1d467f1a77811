"""Run subprocesses. Every subprocess of the toolkit starts here: from an argv list (never a
shell string), logged, with typed errors."""

from __future__ import annotations

import logging
import os
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

from weaviate_dev.core import progress
from weaviate_dev.core.errors import CommandFailed, DevError

log = logging.getLogger(__name__)


RELAY_JOIN = 5.0  # seconds for the last output of a stopped process to be copied
# Root's programs (dockerd, debootstrap) live in sbin, which a non-login PATH may lack.
SBIN = ("/usr/local/sbin", "/usr/sbin", "/sbin")


def which(program: str) -> str | None:
    """Return the full path of `program` on PATH or in the sbin folders, or None."""
    path = os.pathsep.join([os.environ.get("PATH", os.defpath), *SBIN])
    return shutil.which(program, path=path)


def child_env(env: Mapping[str, str] | None) -> dict[str, str]:
    """Return the environment for a child process: `env` (default: ours) with the sbin
    folders added to PATH, since root's programs call others by name (dockerd -> iptables,
    debootstrap -> chroot)."""
    child = dict(os.environ if env is None else env)
    parts = child.get("PATH", os.defpath).split(os.pathsep)
    child["PATH"] = os.pathsep.join(parts + [d for d in SBIN if d not in parts])
    return child


def _resolve(argv: Sequence) -> list[str]:
    argv = [str(a) for a in argv]
    if argv and os.sep not in argv[0]:
        argv[0] = which(argv[0]) or argv[0]
    return argv


def format_argv(argv: Sequence[str]) -> str:
    """Return argv shell-quoted as one line, for logs and --dry-run output."""
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
    argv = _resolve(argv)
    log.debug("run: %s", format_argv(argv))
    try:
        result = subprocess.run(
            argv,
            cwd=cwd,
            env=child_env(env),
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
    """Start argv without waiting (for long-running servers) and return the Popen. The
    caller is responsible for stopping it."""
    argv = _resolve(argv)
    log.debug("spawn: %s", format_argv(argv))
    try:
        return subprocess.Popen(
            argv, cwd=cwd, env=child_env(env), **popen_kwargs
        )
    except FileNotFoundError as exc:
        raise DevError(f"program not found: {argv[0]}") from exc


def run_with_stdin(argv: Sequence[str], stdin: BinaryIO, *,
                   env: Mapping[str, str] | None = None) -> int:
    """Run argv with the file `stdin` as its input and return its exit code.

    A real file is streamed, never read whole; the program's output goes to ours. Raises
    DevError when the program does not exist.
    """
    try:
        stdin.fileno()
    except (AttributeError, OSError, ValueError):  # in memory (io.BytesIO): through a pipe
        proc = spawn(argv, env=env, stdin=subprocess.PIPE)
        proc.communicate(stdin.read())
        return proc.returncode
    proc = spawn(argv, env=env, stdin=stdin)
    proc.wait()
    return proc.returncode


def run_foreground(
    argv: Sequence[str],
    *,
    cwd: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    on_start=None,
    on_signal=None,
    drain_timeout: float = 30.0,
) -> int:
    """Run argv in its own process group and wait; relay Ctrl-C/SIGTERM to that whole group.

    The first SIGINT or SIGTERM we receive is sent to the group as SIGINT (what `go run` lets
    through to the server and `docker run` proxies), the second as SIGTERM, any further as
    SIGKILL. After the process exits we wait up to `drain_timeout` seconds for the rest of its
    group (the server behind a wrapper). `on_start(popen)` runs once the process exists;
    `on_signal(received, sent)` after each relay (signal.Signals both), to tell the user.
    Returns the exit code, or 128+N when signal N killed it (also when signal N arrived
    before the process started; then it is not started). Call from the main thread.

    The signal handlers are installed before the process is spawned, so no Ctrl-C is lost in
    between: one that arrives during the spawn is relayed as soon as the process exists. (The
    process runs in its own session, out of the terminal's reach, so a KeyboardInterrupt here
    would leave it running.)

    When our stdout or stderr is a pipe (`| tee dev.log`), the process writes into a pipe of
    ours that we copy there (`copy_output`): a Ctrl-C ends the reader too, and the process would
    otherwise be killed by SIGPIPE in the middle of its clean shutdown.
    """
    escalation = [signal.SIGINT, signal.SIGTERM]
    received: list[int] = []
    relayed = [0]  # how many of `received` reached the group
    started: list[subprocess.Popen] = []  # the process, once spawned

    def catch_up() -> None:
        while started and relayed[0] < len(received):
            step = relayed[0]
            relayed[0] = step + 1
            sent = escalation[step] if step < len(escalation) else signal.SIGKILL
            log.debug("got signal %s; sending %s to process group %s", received[step], sent,
                      started[0].pid)
            signal_group(started[0].pid, sent)
            if on_signal is not None:
                on_signal(signal.Signals(received[step]), signal.Signals(sent))

    def relay(signum, _frame):
        received.append(signum)
        catch_up()  # before the spawn: only counted, relayed right after it

    handled = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, relay) for sig in handled}
    try:
        if received:  # between our start and the handlers: nothing is started
            return 128 + received[0]
        outputs = {name: stream for name, stream in (("stdout", sys.stdout),
                                                      ("stderr", sys.stderr))
                   if through_pipe(stream)}
        started.append(spawn(argv, cwd=cwd, env=env, start_new_session=True,
                             **{name: subprocess.PIPE for name in outputs}))
        proc = started[0]
        copies = [copy_output(getattr(proc, name), stream) for name, stream in outputs.items()]
        catch_up()
        if on_start is not None:
            on_start(proc)
        code = proc.wait()
        drain_group(proc.pid, drain_timeout)
        for thread in copies:  # the group is gone: the pipes are at their end
            thread.join(timeout=RELAY_JOIN)
    except BaseException:
        if started:
            stop_group(started[0], drain_timeout)
        raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 128 - code if code < 0 else code


def through_pipe(stream) -> bool:
    """Whether stream writes into a pipe or socket (not a terminal, a file or /dev/null)."""
    try:
        mode = os.fstat(stream.fileno()).st_mode
    except (OSError, ValueError, AttributeError):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


def copy_output(source: BinaryIO, stream) -> threading.Thread:
    """Copy what a child writes into `source` to `stream`, in a thread, until the child's end
    of the pipe closes. When stream cannot be written (its reader went away), it goes to
    /dev/null and the copy goes on, so the child can always write."""

    def copy() -> None:
        target = stream.fileno()
        with source:
            for chunk in iter(lambda: os.read(source.fileno(), 65536), b""):
                try:
                    while chunk:
                        chunk = chunk[os.write(target, chunk):]
                except OSError:  # BrokenPipeError: from now on into /dev/null
                    progress.silence(stream)

    stream.flush()  # what we wrote before comes before the child's output
    thread = threading.Thread(target=copy, name="copy-output", daemon=True)
    thread.start()
    return thread


def stop_group(proc: subprocess.Popen, timeout: float = 30.0) -> None:
    """Stop `proc` (started with `start_new_session=True`) and its process group: SIGTERM to
    the group, then SIGKILL when `proc` has not exited `timeout` seconds later. Does nothing
    when it has already exited."""
    if proc.poll() is not None:
        return
    signal_group(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        signal_group(proc.pid, signal.SIGKILL)
        proc.wait()


def signal_group(pgid: int, sig: int) -> bool:
    """Send `sig` to process group `pgid`; return False when there is no such group (or we
    may not signal it)."""
    try:
        os.killpg(pgid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def drain_group(pgid: int, timeout: float) -> None:
    """Wait until no process of group `pgid` is left; SIGKILL the rest after `timeout`
    seconds."""
    deadline = time.monotonic() + timeout
    while signal_group(pgid, 0):
        if time.monotonic() >= deadline:
            log.warning("processes of group %s still running after %ss; killing them",
                        pgid, timeout)
            signal_group(pgid, signal.SIGKILL)
            return
        time.sleep(0.1)
