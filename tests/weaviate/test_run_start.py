"""`weaviate-dev run` start path with a fake weaviate-server: env, directories, exit code,
ready line, preflight."""

from __future__ import annotations

import json
import os
import socket
import sys
import textwrap

import pytest

from weaviate_dev.cli.main import main
from weaviate_dev.core.errors import DevError
from weaviate_dev.weaviate import single_run
from weaviate_dev.weaviate.profiles import ProfileCatalog

FAKE_SERVER = textwrap.dedent("""\
    #!{python}
    import http.server, json, os, sys, threading
    port = int(sys.argv[sys.argv.index("--port") + 1])
    with open(os.environ["FAKE_REPORT"], "w") as f:
        json.dump({{"argv": sys.argv[1:], "cwd": os.getcwd(), "env": dict(os.environ),
                   "pid": os.getpid()}}, f)
    class Ready(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/v1/.well-known/ready" else 404)
            self.end_headers()
            threading.Thread(target=self.server.shutdown).start()
        def log_message(self, *args):
            pass
    http.server.HTTPServer(("127.0.0.1", port), Ready).serve_forever()
    sys.exit(7)
""")


def free_node() -> int:
    """A cluster node index whose HTTP port (8080 + index) is free on this machine."""
    for node in range(40, 400):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", 8080 + node))
            except OSError:
                continue
            return node
    pytest.fail("no free port in 8120..8479")


@pytest.fixture
def fake_server(tmp_path, monkeypatch):
    path = tmp_path / "weaviate-server"
    path.write_text(FAKE_SERVER.format(python=sys.executable))
    path.chmod(0o755)
    report = tmp_path / "report.json"
    monkeypatch.setenv("FAKE_REPORT", str(report))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("WEAVIATE_DEV_WEAVIATE_BIN", raising=False)
    monkeypatch.chdir(tmp_path)
    return path, report


def test_runs_the_binary_with_the_profile_env_and_passes_its_exit_code_on(
        fake_server, tmp_path, monkeypatch, capsys):
    binary, report = fake_server
    monkeypatch.setattr(single_run, "preflight", lambda plan: None)
    # a profile port we can bind on a shared machine: a generated cluster node's
    node = free_node()
    port = 8080 + node
    code = main(["run", "local-first-rbac", "--node", str(node), "--nodes", "1",
                 "--weaviate-bin", str(binary), "--data-dir", str(tmp_path / "d")])
    err = capsys.readouterr().err
    assert code == 7
    seen = json.loads(report.read_text())
    state = tmp_path / "d" / "rbac-cluster" / f"weaviate-{node}"
    assert seen["cwd"] == str(state)
    assert seen["argv"][:6] == ["--scheme", "http", "--host", "127.0.0.1", "--port", str(port)]
    assert seen["env"]["AUTHORIZATION_RBAC_ROOT_USERS"] == "jp-hwang"
    assert seen["env"]["PERSISTENCE_DATA_PATH"] == str(state / "data")
    assert seen["env"]["FAKE_REPORT"] == str(report)  # the caller's environment passes through
    assert (state / "data").is_dir() and (state / "backups").is_dir()
    assert f"Weaviate is ready: http://127.0.0.1:{port}" in err


def test_preflight_refuses_a_taken_port(tmp_path):
    catalog = ProfileCatalog.load()
    node = free_node()
    port = 8080 + node
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", port))
        blocker.listen(1)
        plan = catalog.resolve("local-development", data_root=tmp_path, node=node)
        with pytest.raises(DevError, match=f"127.0.0.1:{port} \\(for http\\) is taken.*"
                                          f"held by process {os.getpid()} "):
            single_run.preflight(plan)


def test_preflight_warns_about_a_missing_service(tmp_path, capsys, monkeypatch):
    catalog = ProfileCatalog.load()
    plan = catalog.resolve("local-reranker-transformers", data_root=tmp_path)
    monkeypatch.setattr("weaviate_dev.weaviate.cluster.tcp_probe",
                        lambda host, port, timeout: lambda: "connection refused")
    monkeypatch.setattr("weaviate_dev.services.ports.port_is_free", lambda address, port: (True, ""))
    single_run.preflight(plan)
    assert "weaviate-dev restart --reranker" in capsys.readouterr().err


def test_a_run_is_recorded_for_down_while_it_lasts(fake_server, tmp_path, monkeypatch):
    """The node records itself in its cluster's running.json (where `down` and a running
    `--all-nodes` find it) and is forgotten once it has exited."""
    from weaviate_dev.weaviate import running

    binary, report = fake_server
    monkeypatch.setattr(single_run, "preflight", lambda plan: None)
    added = []
    original = running.RunFile.add
    monkeypatch.setattr(running.RunFile, "add",
                        lambda self, record: added.append((self.home, record))
                        or original(self, record))
    node = free_node()
    main(["run", "local-first-rbac", "--node", str(node), "--nodes", "1",
          "--weaviate-bin", str(binary), "--data-dir", str(tmp_path / "d")])
    [(home, record)] = added
    seen = json.loads(report.read_text())
    assert home == tmp_path / "d" / "rbac-cluster"
    assert (record.index, record.http, record.grpc) == (node, 8080 + node, 50051 + node)
    assert record.owner == os.getpid() and record.pid != os.getpid()
    assert record.pid == seen["pid"]  # the server itself leads the recorded process group
    assert running.RunFile(home).records() == []


def lock_is_held(path) -> bool:
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def test_run_marks_its_directories_and_holds_the_lock_until_it_is_recorded(
        fake_server, tmp_path, monkeypatch):
    """restart checks for a running Weaviate under the same lock: it never deletes between
    run making its directories and run recording its Weaviate."""
    from weaviate_dev.weaviate import marker, run_data, running

    binary, _ = fake_server
    root = tmp_path / "d"
    monkeypatch.setattr(single_run, "preflight", lambda plan: None)
    seen = []
    original = running.RunFile.add
    monkeypatch.setattr(running.RunFile, "add", lambda self, record: seen.append(
        lock_is_held(root / run_data.LOCK)) or original(self, record))
    made = marker.make
    monkeypatch.setattr(marker, "make", lambda *args: seen.append(
        lock_is_held(root / run_data.LOCK)) or made(*args))
    node = free_node()
    main(["run", "local-first-rbac", "--node", str(node), "--nodes", "1",
          "--weaviate-bin", str(binary), "--data-dir", str(root)])
    assert seen == [True, True, True] and not lock_is_held(root / run_data.LOCK)
    state = root / "rbac-cluster" / f"weaviate-{node}"
    for leaf in ("data", "backups"):
        mark = json.loads((state / leaf / marker.NAME).read_text())
        assert mark["made_by"] == "weaviate-dev run"
        assert mark["profile"] == f"rbac cluster node {node}"
        assert mark["path"] == f"rbac-cluster/weaviate-{node}/{leaf}"
        assert marker.made_here(state / leaf, root)
