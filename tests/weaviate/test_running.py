"""running.py: the record of what `weaviate-dev run` has running, and `down` stopping it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import boot_ticks
from weaviate_dev.core.identity import Identity
from weaviate_dev.core.errors import DevError
from weaviate_dev.weaviate import groups, run_data, running

NODE = textwrap.dedent("""
    import signal, sys, time
    signal.signal(signal.SIGINT, lambda *a: sys.exit(0))
    print("up", flush=True)
    time.sleep(120)
""")
# An owner like `run --all-nodes`: on SIGTERM it stops its node (SIGINT to the node's group)
# and removes the node's record, then exits.
OWNER = textwrap.dedent("""
    import json, os, signal, subprocess, sys, time
    from pathlib import Path
    from weaviate_dev.weaviate import groups, running
    node = subprocess.Popen([sys.executable, "-c", sys.argv[2]], start_new_session=True,
                            stdout=subprocess.PIPE, text=True)
    node.stdout.readline()
    state = running.RunFile(Path(sys.argv[1]))
    me = groups.Member.current()
    state.add(running.Record.of("node 0", groups.Member.of(node), owner=me, http=8080,
                                grpc=50051, index=0))
    def stop(*args):
        groups.stop([groups.Member.of(node)], grace=10)
        state.remove(node.pid)
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    print("owner up", node.pid, flush=True)
    time.sleep(120)
""")


@pytest.fixture
def procs(spawned):
    return spawned


def start(procs, code, *args) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE,
                            text=True, start_new_session=True)
    procs.append(proc)
    return proc


def me() -> groups.Member:
    return groups.Member.current()


def test_records_are_added_replaced_by_index_and_removed(tmp_path, procs):
    node = start(procs, NODE)
    node.stdout.readline()
    state = running.RunFile(tmp_path / "reranker-cluster")
    record = running.Record.of("node 1", groups.Member.of(node), owner=me(), http=8081,
                               grpc=50052, index=1, log=tmp_path / "n1.log")
    state.add(record)
    assert state.records() == [record]
    stored = json.loads((tmp_path / "reranker-cluster" / "running.json").read_text())
    assert stored[0]["pid"] == node.pid and stored[0]["log"] == str(tmp_path / "n1.log")
    assert record.alive() and record.owner_alive()
    again = running.Record.of("node 1", groups.Member.of(node), owner=me(), http=8081,
                              grpc=50052, index=1)
    state.add(again)  # node 1 restarted: one record for it
    assert state.records() == [again]
    state.remove(node.pid)
    assert state.records() == []


def test_down_stops_through_the_owner_and_forgets_the_dead(tmp_path, procs):
    owner = start(procs, OWNER, str(tmp_path / "c"), NODE)
    node_pid = int(owner.stdout.readline().split()[2])
    dead = running.Record(label="gone", index=1, pid=999_999_999, started=1, owner=1,
                          owner_started=1, http=8081, grpc=50052)
    running.RunFile(tmp_path / "c").add(dead)
    stopped = running.stop_all(tmp_path, grace=10)
    assert [r.pid for r in stopped] == [node_pid]
    assert owner.wait(timeout=10) == 0
    assert Identity.of(node_pid) is None
    assert running.RunFile(tmp_path / "c").records() == []


def test_down_stops_a_node_whose_owner_is_gone(tmp_path, procs):
    node = start(procs, NODE)
    node.stdout.readline()
    orphan = running.Record.of("node 0", groups.Member.of(node),
                               owner=groups.Member(Identity(999_999_999, 1.0)), http=8080,
                               grpc=50051)
    running.RunFile(tmp_path / "local-development").add(orphan)
    assert running.stop_all(tmp_path, grace=10) == [orphan]
    assert node.wait(timeout=10) == 0


def test_down_removes_a_container_left_behind(tmp_path, procs, monkeypatch):
    removed = []
    monkeypatch.setattr(running, "remove_container", lambda name: removed.append(name) or True)
    node = start(procs, NODE)
    node.stdout.readline()
    record = running.Record.of("node 0", groups.Member.of(node), owner=me(), http=8080,
                               grpc=50051, container="weaviate-dev-run-node-0")
    running.RunFile(tmp_path / "x").add(record)
    running.stop_all(tmp_path, grace=10)  # the owner is this test: never signalled
    assert removed == ["weaviate-dev-run-node-0"]


def test_nothing_recorded_is_nothing_to_do(tmp_path):
    assert running.stop_all(tmp_path / "absent", grace=1) == []


def running_node(procs) -> subprocess.Popen:
    node = start(procs, NODE)
    node.stdout.readline()
    return node


def test_a_clock_step_keeps_a_running_weaviate_known_to_down(tmp_path, procs, clock_step):
    node = running_node(procs)
    record = running.Record.of("node 0", groups.Member.of(node), owner=me(), http=8080,
                               grpc=50051)
    running.RunFile(tmp_path / "local-development").add(record)
    clock_step(-3600)
    [read] = running.RunFile(tmp_path / "local-development").records()
    assert read.alive()
    with pytest.raises(DevError, match="is running"):
        run_data.refuse_if_running(tmp_path)
    assert running.stop_all(tmp_path, grace=10) == [record]
    assert node.wait(timeout=10) == 0


def old_record(node_pid: int, owner_pid: int) -> dict:
    """A record as weaviate-dev wrote it before it used psutil: starts in clock ticks."""
    return {"label": "local-development", "index": None, "pid": node_pid,
            "started": boot_ticks(node_pid), "owner": owner_pid,
            "owner_started": boot_ticks(owner_pid), "http": 8080, "grpc": 50051,
            "log": None}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="records of Linux only")
def test_a_record_from_before_psutil_of_a_running_weaviate_is_read(tmp_path, procs):
    node = running_node(procs)
    home = tmp_path / "local-development"
    home.mkdir()
    (home / running.FILE).write_text(json.dumps([old_record(node.pid, os.getpid())]))
    [record] = running.RunFile(home).records()
    assert record.alive() and record.owner_alive()
    with pytest.raises(DevError, match=f"pid {node.pid}"):
        run_data.refuse_if_running(tmp_path)  # restart deletes nothing under it
    assert [r.pid for r in running.stop_all(tmp_path, grace=10)] == [node.pid]  # down stops it
    assert node.wait(timeout=10) == 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="records of Linux only")
def test_a_record_from_before_psutil_of_a_reused_pid_is_forgotten(tmp_path, procs):
    node = running_node(procs)
    stale = old_record(node.pid, os.getpid())
    stale["started"] -= 500 * os.sysconf("SC_CLK_TCK")  # another process had the pid then
    home = tmp_path / "local-development"
    home.mkdir()
    (home / running.FILE).write_text(json.dumps([stale]))
    assert running.stop_all(tmp_path, grace=1) == []
    assert node.poll() is None and running.RunFile(home).records() == []


def test_a_field_of_a_later_version_is_ignored(tmp_path, procs):
    node = running_node(procs)
    record = running.Record.of("node 0", groups.Member.of(node), owner=me(), http=8080,
                               grpc=50051)
    home = tmp_path / "p"
    running.RunFile(home).add(record)
    stored = json.loads((home / running.FILE).read_text())
    stored[0]["later"] = "a field this version does not know"
    (home / running.FILE).write_text(json.dumps(stored))
    assert running.RunFile(home).records() == [record]
