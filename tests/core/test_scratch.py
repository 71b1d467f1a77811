"""Scratch directories named after their process: kept while it runs, removed once it is gone,
and only ours (a name without a maker is left alone)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psutil

from weaviate_dev.core import scratch


def test_a_process_is_alive_only_with_its_own_start_time():
    me = psutil.Process()
    assert scratch.maker_is_alive(me.pid, me.create_time())
    assert not scratch.maker_is_alive(me.pid, me.create_time() - 3600)  # the pid came round
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    started = psutil.Process(dead.pid).create_time()
    dead.wait()
    assert not scratch.maker_is_alive(dead.pid, started)


def test_a_scratch_directory_carries_its_maker_and_is_removed_on_the_way_out(tmp_path):
    with scratch.directory(tmp_path / "exports", ".partial-") as made:
        pid, started, boot = scratch.maker_of(Path(made), ".partial-")
        assert pid == psutil.Process().pid
        assert abs(started - psutil.Process().create_time()) < 0.02
        assert abs(boot - psutil.boot_time()) < 0.02
        assert not scratch.sweep(tmp_path / "exports", ".partial-")  # ours: alive, kept
    assert list((tmp_path / "exports").iterdir()) == []


def test_the_sweep_removes_what_a_killed_process_left_and_nothing_else(tmp_path):
    code = ("import sys, time; from pathlib import Path; from weaviate_dev.core import scratch\n"
            "made = scratch.directory(Path(sys.argv[1]), '.partial-')\n"
            "tmp = made.name\n"
            "Path(tmp, 'part').write_bytes(b'x' * 3_000_000)\n"
            "print(tmp, flush=True); time.sleep(600)")
    maker = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)],
                             stdout=subprocess.PIPE, text=True)
    left = Path(maker.stdout.readline().strip())
    (tmp_path / ".partial-old-format").mkdir()  # no maker in its name: not ours to judge
    (tmp_path / ".partial-12-34-not-a-dir").write_text("")
    try:
        assert not scratch.sweep(tmp_path, ".partial-")  # its maker runs: kept
        assert left.is_dir()
    finally:
        maker.kill()
        maker.wait()
    swept = scratch.sweep(tmp_path, ".partial-")
    assert swept.paths == [left] and swept.freed == 3_000_000 and not left.exists()
    assert (tmp_path / ".partial-old-format").is_dir()
    assert (tmp_path / ".partial-12-34-not-a-dir").is_file()


def test_sizes_count_files_not_the_targets_of_links(tmp_path):
    (tmp_path / "big").write_bytes(b"x" * 1000)
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f").write_bytes(b"y" * 10)
    (tmp_path / "d" / "link").symlink_to(tmp_path / "big")
    assert scratch.size_of(tmp_path / "d") == 10
