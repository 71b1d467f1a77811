"""Two servers exporting the same weights into one export cache at once.

Each test forces the interleaving instead of hoping for it: the export of each process stops,
complete in its scratch directory, until the test lets it go on, so the order in which the
two exports reach the cache is the test's. Both servers must end up serving; the first
complete export is kept (its files never removed or replaced under a reader), the second one's
scratch directory discarded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from reranker.engines import onnx_store

SOURCE = "ab" * 32  # a fingerprint: what the stamp must name
WAIT = 120  # seconds a child may take to reach the next step (a loaded machine; never reached)

# A process that publishes an export whose files say who made them; the export stops, made,
# until the test creates go-<name>. Prints the file it got back: its content and inode.
PUBLISHER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from reranker.engines import onnx_store

    cache, name, signals, files = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), sys.argv[4:]
    source = %r

    def make(scratch):
        for file in files:
            (scratch / file).write_text(f"{file} by {name}")
        onnx_store.write_stamp(scratch, {"source": source, "by": name})
        (signals / f"made-{name}").touch()
        while not (signals / f"go-{name}").exists():
            time.sleep(0.01)

    target = onnx_store.publish(cache, source, make)
    got = {f: [(target / f).read_text(), (target / f).stat().st_ino] for f in files}
    print(json.dumps({"target": str(target), "files": got}), flush=True)
""" % SOURCE)


def wait_for(path: Path, *processes: subprocess.Popen) -> None:
    deadline = time.monotonic() + WAIT
    while not path.exists():
        for proc in processes:
            if proc.poll() is not None:
                pytest.fail(f"a child exited ({proc.returncode}) before {path.name}:\n"
                            f"{proc.stderr.read()}")
        assert time.monotonic() < deadline, f"{path.name} never came"
        time.sleep(0.01)


def publisher(cache: Path, signals: Path, name: str, files: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", PUBLISHER, str(cache), name, str(signals),
                             *files], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen) -> dict:
    out, err = proc.communicate(timeout=WAIT)
    assert proc.returncode == 0, err
    return json.loads(out)


def race(tmp_path: Path, first: list[str], second: list[str]) -> tuple[dict, dict]:
    """Two publishers export at once; `first` reaches the cache first, then `second`."""
    cache, signals = tmp_path / "cache", tmp_path / "signals"
    signals.mkdir()
    a = publisher(cache, signals, "A", first)
    b = publisher(cache, signals, "B", second)
    try:
        wait_for(signals / "made-A", a, b)
        wait_for(signals / "made-B", a, b)  # both exports are complete, neither published
        (signals / "go-A").touch()
        got_a = finish(a)
        (signals / "go-B").touch()
        got_b = finish(b)
    finally:
        for proc in (a, b):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    leftovers = sorted(p.name for p in cache.iterdir() if p.name.startswith("."))
    assert leftovers in ([], [".publish.lock"]), leftovers  # the scratch one: discarded
    return got_a, got_b


def test_the_first_complete_export_is_kept_and_the_second_discarded(tmp_path):
    got_a, got_b = race(tmp_path, ["model.onnx"], ["model.onnx"])
    assert got_a["target"] == got_b["target"]
    assert got_a["files"]["model.onnx"][0] == "model.onnx by A"
    # B serves A's file, the very one A may be reading: not removed, not replaced.
    assert got_b["files"] == got_a["files"]
    assert onnx_store.read_stamp(Path(got_a["target"]))["by"] == "A"


def test_an_export_with_more_files_adds_them_without_touching_the_others(tmp_path):
    got_a, got_b = race(tmp_path, ["model.onnx"], ["model.onnx", "model_int8.onnx"])
    assert got_b["files"]["model.onnx"] == got_a["files"]["model.onnx"]  # A's, same inode
    assert got_b["files"]["model_int8.onnx"][0] == "model_int8.onnx by B"  # added
    target = Path(got_b["target"])
    assert onnx_store.read_stamp(target)["source"] == SOURCE


def test_an_export_with_fewer_files_keeps_the_fuller_one(tmp_path):
    got_a, got_b = race(tmp_path, ["model.onnx", "model_int8.onnx"], ["model.onnx"])
    assert got_b["files"]["model.onnx"] == got_a["files"]["model.onnx"]
    assert (Path(got_a["target"]) / "model_int8.onnx").read_text() == "model_int8.onnx by A"


def test_a_stale_export_of_the_same_weights_is_replaced(tmp_path):
    cache = tmp_path / "cache"
    target = onnx_store.cached_dir(cache, SOURCE)
    target.mkdir(parents=True)
    (target / "model.onnx").write_text("half a file")  # no stamp: an export that never ended

    def make(scratch: Path) -> None:
        (scratch / "model.onnx").write_text("whole")
        onnx_store.write_stamp(scratch, {"source": SOURCE})

    assert onnx_store.publish(cache, SOURCE, make) == target
    assert (target / "model.onnx").read_text() == "whole"
    assert onnx_store.is_current(target, SOURCE)
    assert [p.name for p in cache.iterdir() if p.name.startswith(".export")] == []


def test_a_failed_export_leaves_nothing(tmp_path):
    cache = tmp_path / "cache"

    def make(scratch: Path) -> None:
        (scratch / "model.onnx").write_text("half")
        raise RuntimeError("the export failed")

    with pytest.raises(RuntimeError, match="the export failed"):
        onnx_store.publish(cache, SOURCE, make)
    assert [p.name for p in cache.iterdir() if not p.name.endswith(".lock")] == []


# A server's start (`python -m reranker --check`, the onnx engine) whose export, once made,
# waits for the test's go-<name> before it is published.
SERVER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from reranker.engines import onnx_export
    from reranker.__main__ import main

    name, signals = sys.argv[1], Path(sys.argv[2])
    real = onnx_export.export

    def export(*args, **kwargs):
        made = real(*args, **kwargs)
        (signals / f"made-{name}").touch()
        while not (signals / f"go-{name}").exists():
            time.sleep(0.01)
        return made

    onnx_export.export = export
    sys.exit(main(sys.argv[3:]))
""")


def test_two_servers_starting_on_one_empty_cache_both_serve(tmp_path, tiny_model_dir,
                                                            reference):
    cache, signals = tmp_path / "cache", tmp_path / "signals"
    signals.mkdir()
    env = {**os.environ, "ONNX_CACHE_DIR": str(cache)}

    def server(name: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-c", SERVER, name, str(signals), "--check", "--engine", "onnx",
             "--model-dir", str(tiny_model_dir)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)

    a, b = server("A"), server("B")
    try:
        wait_for(signals / "made-A", a, b)
        wait_for(signals / "made-B", a, b)
        (signals / "go-A").touch()
        out_a, err_a = a.communicate(timeout=WAIT)
        [export] = [p for p in cache.iterdir() if not p.name.startswith(".")]
        kept = (export / "model.onnx").stat().st_ino
        (signals / "go-B").touch()
        out_b, err_b = b.communicate(timeout=WAIT)
    finally:
        for proc in (a, b):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    expected = reference.predict([["a query", "a document"]])[0]
    for code, out, err in ((a.returncode, out_a, err_a), (b.returncode, out_b, err_b)):
        assert code == 0, err[-3000:]
        assert f"score of a test pair {expected:.4f}" in out
    assert (export / "model.onnx").stat().st_ino == kept  # A's export, never replaced
    assert sorted(p.name for p in cache.iterdir() if p.name.startswith(".export")) == []
