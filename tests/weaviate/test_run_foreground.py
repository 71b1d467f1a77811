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
