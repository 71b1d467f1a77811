"""progress.py: a line that cannot be written never stops the work (`make dev 2>&1 | tee`,
Ctrl-C: tee is gone, and the shutdown after it must still run)."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

from weaviate_dev.core import progress

# A process whose stderr (and, with "shared", stdout) is a pipe whose reader is gone: it says
# two lines, prints, and tells on the descriptor given first what happened.
BROKEN = textwrap.dedent("""
    import os, stat, sys
    from weaviate_dev.core import progress
    read_end, write_end = os.pipe()
    os.close(read_end)
    os.dup2(write_end, 2)
    if len(sys.argv) > 2:
        os.dup2(write_end, 1)
    report = os.fdopen(int(sys.argv[1]), "w")
    progress.say("stopping Weaviate")
    progress.say("stopping the reranker")
    print("a line left in stdout's buffer")  # flushed only at exit
    null = [stat.S_ISCHR(os.fstat(fd).st_mode) for fd in (1, 2)]
    print("went on", *null, file=report, flush=True)
""")


def run_broken(out: Path, *args: str) -> tuple[int, str]:
    report_read, report_write = os.pipe()
    with out.open("w") as stdout:
        proc = subprocess.Popen([sys.executable, "-c", BROKEN, str(report_write), *args],
                                pass_fds=(report_write,), stdin=subprocess.DEVNULL,
                                stdout=stdout, stderr=subprocess.DEVNULL)
    os.close(report_write)
    with os.fdopen(report_read) as report:
        told = report.read()
    return proc.wait(timeout=30), told


def test_say_survives_a_broken_pipe_and_the_exit_is_clean(tmp_path):
    code, told = run_broken(tmp_path / "out")
    assert told == "went on False True\n"  # stderr now goes to /dev/null; stdout untouched
    assert code == 0 and (tmp_path / "out").read_text() == "a line left in stdout's buffer\n"


def test_stdout_on_the_same_pipe_goes_quiet_too(tmp_path):
    # `2>&1 | tee`: the interpreter's last flush of stdout must not fail (exit 120)
    code, told = run_broken(tmp_path / "out", "shared")
    assert told == "went on True True\n" and code == 0


def test_a_stream_in_memory_is_written_as_before():
    stream = io.StringIO()
    assert progress.write("line\n", stream) and stream.getvalue() == "line\n"
    stream.close()
    assert progress.write("line\n", stream) is False  # closed: no exception


def test_the_cli_keeps_its_exit_code_when_its_reader_went_away(tmp_path):
    """A command that finished its work (down, a Ctrl-C'd dev) exits with its own code even
    when nobody reads its lines any more; no `Exception ignored` at exit."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "weaviate_dev", "down", "--data-dir", str(tmp_path),
             "-p", "weaviate-dev-progress-test"], stdout=write_end, stderr=write_end,
            env={**os.environ, "DOCKER_HOST": "unix:///nonexistent.sock"}, timeout=120)
    finally:
        os.close(write_end)
    assert result.returncode == 0


def test_through_pipe_tells_a_pipe_from_a_file(tmp_path):
    from weaviate_dev.core import process

    read_end, write_end = os.pipe()
    with os.fdopen(write_end, "w") as piped, (tmp_path / "f").open("w") as plain:
        assert process.through_pipe(piped) and not process.through_pipe(plain)
        assert stat.S_ISFIFO(os.fstat(piped.fileno()).st_mode)
    os.close(read_end)
