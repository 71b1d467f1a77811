"""process.run_foreground as `weaviate-dev run` uses it: signals reach the server behind a
wrapper that ignores SIGINT (like `go run`), and the exit code is passed on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# A "server" that writes a ready file, exits 0 on SIGINT and 3 on SIGTERM (with an argument
# "stubborn" it ignores SIGINT).
SERVER = textwrap.dedent("""
    import signal, sys, time, pathlib
    stubborn = len(sys.argv) > 2
    signal.signal(signal.SIGINT, signal.SIG_IGN if stubborn else (lambda *a: sys.exit(0)))
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(3))
    pathlib.Path(sys.argv[1]).write_text("up")
    time.sleep(60)
    sys.exit(9)
""")
# A wrapper that ignores SIGINT and passes the server's exit code on (as `go run` does).
WRAPPER = textwrap.dedent("""
    import signal, subprocess, sys
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(subprocess.call([sys.executable, "-c", *sys.argv[1:]]))
""")
# The toolkit side: run argv in the foreground, print the exit code.
DRIVER = textwrap.dedent("""
    import sys
    from weaviate_dev.core import process
    told = lambda got, sent: print(f"{got.name}->{sent.name}", file=sys.stderr, flush=True)
    code = process.run_foreground([sys.executable, "-c", *sys.argv[1:]], on_signal=told)
    print("exit", code, flush=True)
    sys.exit(code)
""")


def start_driver(tmp_path, *, wrapped=True, stubborn=False):
    ready = tmp_path / "ready"
    argv = [WRAPPER, SERVER] if wrapped else [SERVER]
    argv += [str(ready)] + (["stubborn"] if stubborn else [])
    proc = subprocess.Popen(
        [sys.executable, "-c", DRIVER, *argv],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    deadline = time.monotonic() + 30
    while not ready.exists():
        assert proc.poll() is None, "driver exited early"
        assert time.monotonic() < deadline, "server never started"
        time.sleep(0.05)
    return proc


def test_sigint_reaches_the_server_and_exit_code_is_passed_on(tmp_path):
    proc = start_driver(tmp_path)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0 and out.strip() == "exit 0"


def test_sigterm_stops_the_server_behind_the_wrapper_cleanly(tmp_path):
    proc = start_driver(tmp_path)
    proc.send_signal(signal.SIGTERM)  # relayed as SIGINT, which the wrapper lets through
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and out.strip() == "exit 0"
    assert err.split() == ["SIGTERM->SIGINT"]


def test_second_signal_escalates_to_sigterm(tmp_path):
    proc = start_driver(tmp_path, wrapped=False, stubborn=True)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.5)
    assert proc.poll() is None  # the stubborn server ignored SIGINT
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 3 and out.strip() == "exit 3"
    assert err.split() == ["SIGINT->SIGINT", "SIGINT->SIGTERM"]  # each relay is told


def test_killed_by_signal_gives_128_plus_n(tmp_path):
    from weaviate_dev.core import process

    code = process.run_foreground([sys.executable, "-c",
                                   "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"])
    assert code == 128 + signal.SIGKILL


# The toolkit side again, interrupted by a Ctrl-C of its own at one instant of its start
# (argv[1]): before Weaviate is spawned, right after, or while on_start runs. The pid of the
# spawned process goes to the file argv[2].
INTERRUPTED_DRIVER = textwrap.dedent("""
    import os, signal, sys
    from weaviate_dev.core import process
    where, pid_file = sys.argv[1], sys.argv[2]
    real_spawn = process.spawn

    def spawn(*args, **kwargs):
        if where == "before-spawn":
            os.kill(os.getpid(), signal.SIGINT)
        proc = real_spawn(*args, **kwargs)
        with open(pid_file, "w") as out:
            out.write(str(proc.pid))
        if where == "after-spawn":
            os.kill(os.getpid(), signal.SIGINT)
        return proc

    process.spawn = spawn
    interrupt = lambda proc: os.kill(os.getpid(), signal.SIGINT)
    code = process.run_foreground(["sleep", "60"],
                                  on_start=interrupt if where == "on-start" else None)
    print("exit", code, flush=True)
""")


def interrupted_run(tmp_path: Path, where: str) -> tuple[subprocess.CompletedProcess, int | None]:
    """Run the interrupted driver (SIGINT at its default, as in a terminal); its result and
    the pid of the process it spawned (None: it spawned none)."""
    pid_file, out, err = (tmp_path / f"{name}-{where}" for name in ("pid", "out", "err"))
    pid_file.unlink(missing_ok=True)
    # Files, not pipes: a process left behind would hold a pipe open, and we would wait for it.
    with out.open("w") as stdout, err.open("w") as stderr:
        code = subprocess.call(
            [sys.executable, "-c", INTERRUPTED_DRIVER, where, str(pid_file)],
            stdout=stdout, stderr=stderr, timeout=60,
            env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    result = subprocess.CompletedProcess([], code, out.read_text(), err.read_text())
    return result, int(pid_file.read_text()) if pid_file.exists() else None


def left_running(pid: int | None) -> bool:
    """Whether the spawned process (the leader of its own group) or its group is left."""
    if pid is None:
        return False
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    os.killpg(pid, signal.SIGKILL)  # the test's own cleanup: it must not stay behind
    return True


def test_a_ctrl_c_right_after_the_spawn_leaves_no_process(tmp_path):
    for attempt in range(50):
        result, pid = interrupted_run(tmp_path, "after-spawn")
        assert pid is not None, result.stderr
        assert not left_running(pid), f"attempt {attempt}: Weaviate left running\n" \
                                       f"{result.stderr[-2000:]}"
        assert result.stdout.strip() == f"exit {128 + signal.SIGINT}", result.stderr[-2000:]


@pytest.mark.parametrize("where", ["before-spawn", "on-start"])
def test_a_ctrl_c_at_any_other_instant_of_the_start_leaves_no_process(tmp_path, where):
    result, pid = interrupted_run(tmp_path, where)
    assert not left_running(pid), result.stderr[-2000:]
    assert result.stdout.strip() == f"exit {128 + signal.SIGINT}", result.stderr[-2000:]


# A server that logs its clean shutdown at length (more than a pipe holds), then says so in a
# file; and a driver that runs it in the foreground, telling the Ctrl-C on stderr as run does.
CHATTY = textwrap.dedent("""
    import pathlib, signal, sys, time
    def stop(*args):
        for step in range(2000):
            print(f"shutting down: step {step} " + "x" * 60, flush=True)
        pathlib.Path(sys.argv[1]).write_text("clean")
        sys.exit(0)
    signal.signal(signal.SIGINT, stop)
    print("up", flush=True)
    time.sleep(60)
""")
CHATTY_DRIVER = textwrap.dedent("""
    import pathlib, sys
    from weaviate_dev.core import process, progress
    told = lambda got, sent: progress.say(f"interrupted ({got.name}): stopping Weaviate")
    code = process.run_foreground([sys.executable, "-c", *sys.argv[1:3]], on_signal=told)
    pathlib.Path(sys.argv[3]).write_text(f"exit {code}")
""")


def test_a_server_behind_a_pipe_whose_reader_went_away_shuts_down_cleanly(tmp_path):
    """`weaviate-dev dev 2>&1 | tee dev.log`, Ctrl-C: tee exits at once. The server's shutdown
    lines and ours then have no reader; neither may stop the shutdown."""
    done, report = tmp_path / "done", tmp_path / "report"
    read_end, write_end = os.pipe()
    proc = subprocess.Popen(
        [sys.executable, "-c", CHATTY_DRIVER, CHATTY, str(done), str(report)],
        stdout=write_end, stderr=write_end, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    os.close(write_end)
    reader = os.fdopen(read_end)
    assert reader.readline() == "up\n"
    reader.close()  # the reader is gone
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 0
    assert report.read_text() == "exit 0" and done.read_text() == "clean"
