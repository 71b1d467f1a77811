"""running.py: the record of what `weaviate-dev run` has running, and `down` stopping it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from weaviate_dev.weaviate import groups, running

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
    me = groups.Member(os.getpid(), groups.start_time(os.getpid()))
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
    return groups.Member(os.getpid(), groups.start_time(os.getpid()))


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
    assert groups.start_time(node_pid) is None
    assert running.RunFile(tmp_path / "c").records() == []


def test_down_stops_a_node_whose_owner_is_gone(tmp_path, procs):
    node = start(procs, NODE)
    node.stdout.readline()
    orphan = running.Record.of("node 0", groups.Member.of(node),
                               owner=groups.Member(999_999_999, 1), http=8080, grpc=50051)
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
