"""`weaviate-dev run CLUSTER --all-nodes` with fake weaviate-server processes, as a user runs it.

The CLI runs in its own process group with SIGINT at its default (a Ctrl-C test of a process
that ignores SIGINT would prove nothing). The fake server answers /v1/.well-known/ready and a
/v1/cluster/statistics in 1.39.0's shape, built from the fakes that are up (each keeps a file
in FAKE_DIR while it runs), so "every voter present" is as real as the readiness logic it
tests. The cluster's base ports are moved to a free block (the driver patches the catalog;
metrics and pprof through their documented environment overrides), so these tests never touch
8080/50051/... that other suites use.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from weaviate_dev.testing.cli_process import CliProcess

FAKE_SERVER = textwrap.dedent("""\
    #!{python}
    import http.server, json, os, signal, sys
    from pathlib import Path
    port = int(sys.argv[sys.argv.index("--port") + 1])
    name = os.environ["CLUSTER_HOSTNAME"]
    join = [e.split(":")[0] for e in os.environ["RAFT_JOIN"].split(",")]
    registry = Path(os.environ["FAKE_DIR"])
    print(f"fake {{name}} starting on {{port}}", flush=True)
    if os.environ.get("FAKE_EXIT") == name:
        print("boom: cannot start", flush=True)
        sys.exit(3)
    mine = registry / name
    mine.write_text(str(os.getpid()))
    def bye(*args):
        mine.unlink(missing_ok=True)
        os._exit(0)
    signal.signal(signal.SIGINT, bye)
    signal.signal(signal.SIGTERM, bye)
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/v1/cluster/statistics":
                expect = int(os.environ["RAFT_BOOTSTRAP_EXPECT"])
                up = [n for n in join if (registry / n).exists()]
                config = [{{"id": n, "suffrage": 0 if join.index(n) < expect else 1}} for n in up]
                stats = [{{"name": n, "status": "HEALTHY", "ready": True,
                          "leaderId": "weaviate-0", "raft": {{"latestConfiguration": config}},
                          **({{"isVoter": True}} if join.index(n) < expect else {{}})}}
                         for n in up]
                body = json.dumps({{"statistics": stats, "synchronized": True}}).encode()
            elif self.path == "/v1/.well-known/ready":
                body = b"{{}}"
            else:
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body)
        def log_message(self, *args):
            pass
    http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
""")
# The CLI, with the cluster's base ports moved to BASE (json) before it runs.
DRIVER = textwrap.dedent("""
    import json, sys
    from weaviate_dev.cli import main as cli
    from weaviate_dev.weaviate import port_scheme, profiles
    base = json.loads(sys.argv[1])
    load = profiles.ProfileCatalog.load.__func__
    def moved(cls, *args, **kwargs):
        catalog = load(cls, *args, **kwargs)
        catalog.cluster_ports = port_scheme.ClusterPorts(**base)
        return catalog
    profiles.ProfileCatalog.load = classmethod(moved)
    sys.exit(cli.main(sys.argv[2:]))
""")
READY = "Weaviate cluster is ready"


def free_block(size: int = 100) -> int:
    """A base port with `size` free ports after it."""
    for base in range(21000, 60000, size):
        try:
            socks = []
            for port in range(base, base + size):
                sock = socket.socket()
                socks.append(sock)
                sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
        return base
    pytest.fail("no block of free ports")


def Cli(tmp_path: Path, base: int, *args: str, env: dict) -> CliProcess:  # noqa: N802
    """The CLI through DRIVER (the cluster's ports moved to `base`), in its own process group."""
    ports = {"http": base, "grpc": base + 10, "gossip": base + 20, "raft": base + 40}
    return CliProcess([sys.executable, "-c", DRIVER, json.dumps(ports), *args], env=env,
                      cwd=tmp_path)


@pytest.fixture
def fake(tmp_path, executable):
    """A fake weaviate-server, the environment for the CLI, and cleanup of what is left."""
    binary = executable(tmp_path / "weaviate-server", FAKE_SERVER.format(python=sys.executable))
    registry = tmp_path / "up"
    registry.mkdir()
    base = free_block()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLUSTER_", "PERSISTENCE"))}
    env.update(FAKE_DIR=str(registry), PROMETHEUS_MONITORING_PORT=str(base + 60),
               GO_PROFILING_PORT=str(base + 70), XDG_CACHE_HOME=str(tmp_path / "cache"))
    clis: list[Cli] = []

    def cli(*args: str, extra: dict | None = None,
            source: tuple[str, ...] = ("--weaviate-bin", str(binary))) -> Cli:
        started = Cli(tmp_path, base, *args, *source,
                      "--data-dir", str(tmp_path / "data"), env={**env, **(extra or {})})
        clis.append(started)
        return started

    cli.base, cli.registry, cli.env, cli.data = base, registry, env, tmp_path / "data"
    cli.binary = binary
    yield cli
    for started in clis:
        started.kill()
    for pid_file in registry.iterdir():
        try:
            os.kill(int(pid_file.read_text()), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass


def records(data: Path) -> list[dict]:
    path = data / "reranker-cluster" / "running.json"
    return json.loads(path.read_text()) if path.exists() else []


def up(registry: Path) -> list[str]:
    return sorted(p.name for p in registry.iterdir())


def test_every_node_starts_and_ctrl_c_stops_them_all(fake):
    cli = fake("run", "local-reranker-cluster", "--all-nodes")
    cli.wait_for(READY)
    out = cli.output()
    assert up(fake.registry) == ["weaviate-0", "weaviate-1", "weaviate-2"]
    assert "the reranker cluster (3 nodes, 3 voters)" in out
    for i in range(3):
        log = fake.data / "reranker-cluster" / f"weaviate-{i}" / "weaviate.log"
        assert (f"node {i}  http://127.0.0.1:{fake.base + i}  gRPC 127.0.0.1:"
                f"{fake.base + 10 + i}  log {log}") in out
        assert f"fake weaviate-{i} starting" in log.read_text()
    assert sorted(r["index"] for r in records(fake.data)) == [0, 1, 2]
    assert cli.ctrl_c() == 0, cli.output()
    assert up(fake.registry) == [] and records(fake.data) == []
    assert "every node stopped" in cli.output()


def test_a_node_that_exits_during_start_stops_the_others_and_shows_its_log(fake):
    cli = fake("run", "local-reranker-cluster", "--all-nodes", extra={"FAKE_EXIT": "weaviate-1"})
    assert cli.proc.wait(timeout=60) == 1
    out = cli.output()
    assert "node 1 (weaviate-1) exited with code 3 during start; stopping the others" in out
    assert "| boom: cannot start" in out
    assert up(fake.registry) == [] and records(fake.data) == []


def test_a_busy_port_is_refused_before_anything_starts(fake):
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", fake.base + 2))
        blocker.listen(1)
        cli = fake("run", "local-reranker-cluster", "--all-nodes")
        assert cli.proc.wait(timeout=30) == 1
    out = cli.output()
    assert f"127.0.0.1:{fake.base + 2} (for node 2 http) is taken" in out
    assert f"held by process {os.getpid()} " in out and "nothing was started" in out
    assert up(fake.registry) == [] and not (fake.data / "reranker-cluster").exists()


def test_a_killed_node_is_reported_restarted_and_stopped_with_the_rest(fake):
    cli = fake("run", "local-reranker-cluster", "--all-nodes", "--nodes", "3")
    cli.wait_for(READY)
    node2 = int((fake.registry / "weaviate-2").read_text())
    os.kill(node2, signal.SIGKILL)
    cli.wait_for("node 2 (http://127.0.0.1:")
    out = cli.output()
    assert "was killed by SIGKILL; the other nodes keep running" in out
    hint = out.split("Start it again with its data: ")[1].splitlines()[0]
    assert hint.startswith("weaviate-dev run local-reranker-cluster --node 2 --nodes 3 "
                           "--weaviate-bin ")
    assert hint.endswith(f"--data-dir {fake.data}")
    (fake.registry / "weaviate-2").unlink()
    again = fake(*hint.split()[1:-4])  # the same flags (the fixture adds bin and data dir)
    again.wait_for("Weaviate is ready")
    cli.wait_for("node 2 runs again")
    assert sorted(r["index"] for r in records(fake.data)) == [0, 1, 2]
    assert cli.ctrl_c() == 0, cli.output()
    assert again.proc.wait(timeout=30) == 0  # the restarted node was stopped too
    assert up(fake.registry) == [] and records(fake.data) == []


def test_down_in_another_terminal_stops_the_cluster(fake, tmp_path):
    cli = fake("run", "local-reranker-cluster", "--all-nodes", "--nodes", "2")
    cli.wait_for(READY)
    down = subprocess.run(
        [sys.executable, "-m", "weaviate_dev", "down", "--data-dir", str(fake.data),
         "-p", f"weaviate-dev-unit-{os.getpid()}", "--workspace", str(tmp_path)],
        env=fake.env, capture_output=True, text=True, timeout=120)
    assert down.returncode == 0, down.stderr
    assert "stopped local-reranker-cluster" in down.stderr
    assert "stopped reranker cluster node 1" in down.stderr
    assert cli.proc.wait(timeout=30) == 0, cli.output()
    assert "interrupted (SIGTERM): stopping 2 node(s)" in cli.output()
    assert up(fake.registry) == [] and records(fake.data) == []


def test_status_lists_every_node_run_started_until_it_is_stopped(fake, tmp_path):
    cli = fake("run", "local-reranker-cluster", "--all-nodes", "--nodes", "2")
    cli.wait_for(READY)

    def status() -> list[dict]:
        result = subprocess.run(
            [sys.executable, "-m", "weaviate_dev", "status", "--json", "--data-dir",
             str(fake.data), "-p", f"weaviate-dev-unit-{os.getpid()}", "--workspace",
             str(tmp_path)], env=fake.env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return [row for row in json.loads(result.stdout) if row["kind"] == "run"]

    rows = status()
    by_http = {int(row["ports"][0].split(":")[1].split()[0]): row for row in rows}
    recorded = {r["http"]: r for r in records(fake.data)}
    assert sorted(by_http) == sorted(recorded) and len(rows) == 2
    assert all(row["state"] == "running" and row["ready"] == "yes" for row in rows), rows
    assert all(row["container"] == f"pid {recorded[port]['pid']}"
               for port, row in by_http.items())
    assert cli.ctrl_c() == 0, cli.output()
    assert status() == []


FAKE_GO = textwrap.dedent("""\
    #!/bin/sh
    # `go build -ldflags L -o OUT PKG`: record the call, "compile" the fake server into OUT
    echo "$PWD $*" >> "$FAKE_GO_LOG"
    while [ "$1" != "-o" ]; do shift; done
    cp "$FAKE_SERVER_BIN" "$2"
""")


def test_from_a_source_tree_weaviate_is_compiled_once_for_every_node(fake, tmp_path,
                                                                    executable, weaviate_tree):
    checkout = weaviate_tree
    bin_dir = executable(tmp_path / "gobin" / "go", FAKE_GO).parent
    log = tmp_path / "go.log"
    extra = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "FAKE_GO_LOG": str(log),
             "FAKE_SERVER_BIN": str(fake.binary)}
    cli = fake("run", "local-reranker-cluster", "--all-nodes", extra=extra,
               source=("--weaviate-src", str(checkout)))
    cli.wait_for(READY)
    [call] = log.read_text().splitlines()
    built = call.split(" -o ")[1].split()[0]
    assert call.startswith(f"{checkout} build -ldflags -X github.com/weaviate/weaviate/")
    assert call.endswith(" ./cmd/weaviate-server")
    # the tree's cached build, the one a single `run` of this tree uses too
    assert built.startswith(str(tmp_path / "cache" / "weaviate-dev" / "builds" / "weaviate-"))
    assert built.endswith("/release/weaviate-server.partial")
    assert "compiling Weaviate in" in cli.output() and up(fake.registry) == [
        "weaviate-0", "weaviate-1", "weaviate-2"]
    assert cli.ctrl_c() == 0
