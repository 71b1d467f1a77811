"""Start a command the way a user does in a terminal, for tests that watch its output and
press Ctrl-C.

`CliProcess(argv, env=..., cwd=...)` runs argv in its own process group with SIGINT at its
default action (a non-interactive shell's `cmd &` would start it with SIGINT ignored, and a
Ctrl-C test would prove nothing), and writes its output to a log file under `cwd`.
`CliProcess.weaviate_dev(*args)` runs `python -m weaviate_dev ARGS`. `wait_for` waits for a
line of output, `ctrl_c` sends SIGINT to the whole group as a terminal does, and `kill` kills
whatever is left. With `through_tee=True` the output goes as in
`argv 2>&1 | tee LOG`: through a pipe to a `tee` in the same process group, so that a Ctrl-C
ends the reader too.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

STAGE_TIMEOUT = 600  # e.g. a stage that first builds the base image
STOP_TIMEOUT = 120


class CliProcess:
    """A command running in its own process group, with its output in a log file."""

    def __init__(self, argv: Sequence[str], *, env: dict, cwd: Path,
                 through_tee: bool = False) -> None:
        self.log = Path(cwd) / f"cli-{uuid.uuid4().hex[:6]}.log"
        self.tee: subprocess.Popen | None = None
        if through_tee:  # tee leads a group of its own, as a shell's pipeline is one group
            self.tee = subprocess.Popen(["tee", str(self.log)], stdin=subprocess.PIPE,
                                        stdout=subprocess.DEVNULL,
                                        preexec_fn=lambda: (os.setpgid(0, 0), _sigint_default()))
            group = self.tee.pid
            self.proc = subprocess.Popen(
                list(argv), env=env, cwd=cwd, stdout=self.tee.stdin, stderr=subprocess.STDOUT,
                preexec_fn=lambda: (os.setpgid(0, group), _sigint_default()))
            self.tee.stdin.close()  # only argv writes into the pipe
            self.group = group
            return
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                list(argv), env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=_sigint_default)
        self.group = self.proc.pid

    @classmethod
    def weaviate_dev(cls, *args: str, env: dict, cwd: Path) -> "CliProcess":
        """Start `python -m weaviate_dev ARGS`, which is what the console script runs."""
        return cls([sys.executable, "-m", "weaviate_dev", *args], env=env, cwd=cwd)

    def output(self) -> str:
        """Return everything the command has printed so far."""
        try:
            return self.log.read_text(errors="replace")
        except FileNotFoundError:  # tee has not opened it yet
            return ""

    def wait_for(self, text: str, timeout: float = STAGE_TIMEOUT) -> None:
        """Wait until `text` appears in the output. Raises AssertionError (with the output's
        tail) when the command exits first or `timeout` seconds pass."""
        started = time.monotonic()
        while text not in self.output():
            assert self.proc.poll() is None, (f"exited with {self.proc.returncode} before "
                                              f"{text!r}:\n{self.output()[-4000:]}")
            assert time.monotonic() - started < timeout, \
                f"no {text!r} after {timeout}s:\n{self.output()[-4000:]}"
            time.sleep(0.05)

    def ctrl_c(self, timeout: float = STOP_TIMEOUT) -> int:
        """Send SIGINT to the whole group, as a terminal does, and return the exit code."""
        os.killpg(self.group, signal.SIGINT)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"still running {timeout}s after Ctrl-C:\n"
                                 + self.output()[-4000:]) from None

    def kill(self) -> None:
        """Kill the process group when the command (or its tee) is still running."""
        for proc in (self.proc, self.tee):
            if proc is not None and proc.poll() is None:
                try:
                    os.killpg(self.group, signal.SIGKILL)
                except ProcessLookupError:  # the group's leader and members are gone
                    pass
                proc.wait()


def _sigint_default() -> None:
    """In the child: SIGINT at its default, as a terminal's foreground job has it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
