"""The one subprocess runner: argv resolution, typed errors."""

import signal
import subprocess

import psutil
import pytest

from weaviate_dev.core import process
from weaviate_dev.core.errors import CommandFailed, DevError


@pytest.fixture
def sbin_tool(tmp_path, monkeypatch):
    sbin = tmp_path / "sbin"
    sbin.mkdir()
    tool = sbin / "rootonly"
    tool.write_text("#!/bin/sh\necho from-sbin \"$@\"\n")
    tool.chmod(0o755)
    monkeypatch.setattr(process, "SBIN", (str(sbin),))
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    return tool


def test_programs_in_sbin_are_found_without_sbin_on_path(sbin_tool):
    assert process.which("rootonly") == str(sbin_tool)
    result = process.run(["rootonly", "x"], capture=True)
    assert result.stdout.strip() == "from-sbin x"


def test_missing_program_is_a_clear_error():
    with pytest.raises(DevError, match="program not found: no-such-program-here"):
        process.run(["no-such-program-here"])


def test_failure_carries_code_and_output():
    with pytest.raises(CommandFailed) as info:
        process.run(["sh", "-c", "echo boom; exit 3"], capture=True)
    assert info.value.returncode == 3
    assert "boom" in info.value.output and "exit code 3" in str(info.value)


def test_children_get_sbin_on_path(sbin_tool):
    result = process.run(["sh", "-c", "rootonly child"], capture=True, env={"PATH": "/bin"})
    assert result.stdout.strip() == "from-sbin child"


def ended(pid: int, within: float = 5.0) -> bool:
    """Whether process pid is gone or a zombie (its parent may be slow to reap it) in time."""
    import time

    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD):
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


def spawn_group(script: str):
    """sh running script in a new process group, with a child; (the process, the child's pid)."""
    proc = process.spawn(["sh", "-c", f"{script}; sleep 60 & echo $!; wait"],
                         start_new_session=True, stdout=subprocess.PIPE)
    return proc, int(proc.stdout.readline())


def test_stop_group_terminates_the_process_and_its_children():
    proc, child = spawn_group("true")
    process.stop_group(proc, timeout=10)
    assert proc.returncode == -signal.SIGTERM and ended(child)
    proc.stdout.close()


def test_stop_group_kills_a_group_that_ignores_sigterm():
    import time

    proc, child = spawn_group("trap '' TERM")  # ignored signals stay ignored in the children
    started = time.monotonic()
    process.stop_group(proc, timeout=0.5)
    assert proc.returncode == -signal.SIGKILL and ended(child)
    assert time.monotonic() - started < 10
    proc.stdout.close()


def test_stop_group_of_an_exited_process_does_nothing():
    proc = process.spawn(["true"], start_new_session=True)
    proc.wait()
    process.stop_group(proc, timeout=1)
    assert proc.returncode == 0


def test_a_reader_that_goes_away_ends_the_cli_quietly():
    """`weaviate-dev run --list | head`: head exits first; no traceback, SIGPIPE's status."""
    import os
    import sys

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first byte is written
    try:
        result = subprocess.run([sys.executable, "-m", "weaviate_dev", "run", "--list"],
                                stdout=write_end, stderr=subprocess.PIPE, timeout=60)
    finally:
        os.close(write_end)
    assert result.stderr == b""
    assert result.returncode == 141
