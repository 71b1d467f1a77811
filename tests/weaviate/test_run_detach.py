"""`weaviate-dev run ... --detach` with fake weaviate-server processes: the start waits until the
nodes are ready, exits 0 and leaves them running on their own (their own sessions, stdin from
/dev/null, output in their log files); `status`, `logs` and `down` then find them through the
record, with no weaviate-dev process left to own them. A start that fails or is interrupted
leaves nothing.

The fake server and the CLI driver (the cluster's ports moved to a free block) are those of
test_cluster_run.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import psutil
from test_cluster_run import fake, records, up  # noqa: F401 - fake is a fixture

from weaviate_dev.core.identity import Identity
from weaviate_dev.weaviate import groups

READY = "Weaviate cluster is ready"


def command(fake, tmp_path, verb: str, *args: str) -> subprocess.CompletedProcess:
    """Another weaviate-dev command, as typed in another terminal, on the fake's data."""
    return subprocess.run(
        [sys.executable, "-m", "weaviate_dev", verb, *args, "--data-dir", str(fake.data)],
        env=fake.env, capture_output=True, text=True, timeout=120, cwd=tmp_path)


def down(fake, tmp_path) -> subprocess.CompletedProcess:
    return command(fake, tmp_path, "down", "-p", f"weaviate-dev-unit-{os.getpid()}",
                   "--workspace", str(tmp_path))


def pids(fake) -> list[int]:
    return [int((fake.registry / name).read_text()) for name in up(fake.registry)]


def test_a_detached_cluster_runs_on_after_the_command_and_down_stops_it(fake, tmp_path):
    cli = fake("run", "local-reranker-cluster", "--all-nodes", "--nodes", "2", "--detach")
    assert cli.proc.wait(timeout=60) == 0, cli.output()
    out = cli.output()
    assert READY in out
    assert f"they run in the background: `weaviate-dev down --data-dir {fake.data}` stops " \
           "every node" in out
    assert up(fake.registry) == ["weaviate-0", "weaviate-1"]
    recorded = records(fake.data)
    assert sorted(r["index"] for r in recorded) == [0, 1]
    for record, pid in zip(sorted(recorded, key=lambda r: r["index"]), pids(fake)):
        assert record["pid"] == pid
        node = psutil.Process(pid)
        # out of the terminal's session (no SIGHUP when it closes), reading nothing from it,
        # writing to its log file only
        assert os.getsid(pid) == pid != os.getsid(0)
        assert os.readlink(f"/proc/{pid}/fd/0") == os.devnull
        assert os.readlink(f"/proc/{pid}/fd/1") == record["log"]
        assert os.readlink(f"/proc/{pid}/fd/2") == record["log"]
        # its owner, the command, has exited: nobody waits for the node
        assert not groups.Member(Identity(record["owner"], record["owner_started"])).alive()
        assert node.is_running()
    stopped = down(fake, tmp_path)
    assert stopped.returncode == 0, stopped.stderr
    assert "stopped local-reranker-cluster" in stopped.stderr
    assert "stopped reranker cluster node 1" in stopped.stderr
    assert up(fake.registry) == [] and records(fake.data) == []


def test_status_and_logs_find_the_detached_nodes(fake, tmp_path):
    cli = fake("run", "local-reranker-cluster", "--all-nodes", "--nodes", "2", "--detach")
    assert cli.proc.wait(timeout=60) == 0, cli.output()
    status = command(fake, tmp_path, "status", "--json", "-p",
                     f"weaviate-dev-unit-{os.getpid()}", "--workspace", str(tmp_path))
    assert status.returncode == 0, status.stderr
    rows = [row for row in json.loads(status.stdout) if row["kind"] == "run"]
    assert len(rows) == 2 and all(r["state"] == "running" and r["ready"] == "yes"
                                  for r in rows), rows
    logs = command(fake, tmp_path, "logs", "weaviate", "-n", "1")
    assert logs.returncode == 0, logs.stderr
    assert logs.stdout.splitlines() == ["weaviate-0 | fake weaviate-0 starting on "
                                        f"{fake.base}",
                                        "weaviate-1 | fake weaviate-1 starting on "
                                        f"{fake.base + 1}"]
    one = command(fake, tmp_path, "logs", "weaviate-1")
    assert one.stdout.splitlines()[0].startswith("=== weaviate-dev ")
    assert one.stdout.splitlines()[-1] == f"fake weaviate-1 starting on {fake.base + 1}"
    assert down(fake, tmp_path).returncode == 0
    gone = command(fake, tmp_path, "logs", "weaviate")
    assert gone.returncode == 1
    assert "no log file of a Weaviate node (weaviate) is recorded under" in gone.stderr


def test_one_node_detached_is_ready_on_its_own_without_raft(fake, tmp_path):
    node = 5  # a node of a cluster profile on its own: `run PROFILE --node I`
    cli = fake("run", "local-first-rbac", "--node", str(node), "--nodes", "1", "--detach")
    assert cli.proc.wait(timeout=60) == 0, cli.output()
    out = cli.output()
    log = fake.data / "rbac-cluster" / f"weaviate-{node}" / "weaviate.log"
    assert "Weaviate is ready in " in out and "Weaviate (rbac cluster node 5)" in out
    assert f"log {log}" in out and "it runs in the background" in out
    [pid] = pids(fake)
    assert os.readlink(f"/proc/{pid}/fd/1") == str(log)
    assert down(fake, tmp_path).returncode == 0
    assert up(fake.registry) == []


def test_a_node_that_exits_during_a_detached_start_leaves_nothing(fake):
    cli = fake("run", "local-reranker-cluster", "--all-nodes", "--detach",
               extra={"FAKE_EXIT": "weaviate-1"})
    assert cli.proc.wait(timeout=60) == 1
    out = cli.output()
    assert "node 1 (weaviate-1) exited with code 3 during start; stopping the others" in out
    assert "| boom: cannot start" in out
    assert up(fake.registry) == [] and records(fake.data) == []


def test_ctrl_c_while_a_detached_start_waits_leaves_nothing(fake, executable, tmp_path):
    never = executable(tmp_path / "never-ready", "#!/bin/sh\necho started\nexec sleep 300\n")
    cli = fake("run", "local-reranker-cluster", "--all-nodes", "--nodes", "2", "--detach",
               source=("--weaviate-bin", str(never)))
    cli.wait_for("logs in")
    deadline = time.monotonic() + 30
    while len(records(fake.data)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    started = [r["pid"] for r in records(fake.data)]
    assert len(started) == 2, cli.output()
    assert cli.ctrl_c() == 130, cli.output()
    assert "interrupted (SIGINT): stopping 2 node(s)" in cli.output()
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"
                   for pid in started)
    assert records(fake.data) == []


def test_detach_refuses_watch(fake):
    cli = fake("run", "local-reranker-transformers", "--detach", "--watch")
    assert cli.proc.wait(timeout=30) == 2
    assert "--watch restarts Weaviate from the foreground: leave out --detach" in cli.output()
