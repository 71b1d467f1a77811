"""What `dev --detach` reports: the nodes this process started (from the run records), the
reranker and what it serves, the command that stops both; as JSON or as lines."""

from __future__ import annotations

import argparse
import json
import subprocess

import pytest

from weaviate_dev.core.identity import Identity
from weaviate_dev.cli import detached
from weaviate_dev.core.settings import Settings
from weaviate_dev.weaviate import groups, running


@pytest.fixture
def nodes(tmp_path):
    """Two live processes recorded as nodes 1 and 0 of a cluster started by this process, and
    one recorded by another weaviate-dev (not ours to report)."""
    procs = [subprocess.Popen(["sleep", "60"]) for _ in range(3)]
    me = groups.Member.current()
    other = groups.Member(Identity.of(procs[2].pid))
    cluster = running.RunFile(tmp_path / "data" / "reranker-cluster")
    for index, proc in ((1, procs[1]), (0, procs[0])):
        cluster.add(running.Record.of(f"node {index}", groups.Member.of(proc), owner=me,
                                      http=8080 + index, grpc=50051 + index, index=index,
                                      log=tmp_path / f"weaviate-{index}.log"))
    running.RunFile(tmp_path / "data" / "local-development").add(running.Record.of(
        "local-development", groups.Member.of(procs[2]), owner=other, http=8090, grpc=50090))
    yield tmp_path / "data"
    for proc in procs:
        proc.kill()
        proc.wait()


def test_the_report_names_every_node_started_here_and_the_reranker(nodes, tmp_path,
                                                                   monkeypatch, capsys):
    from weaviate_dev.services import reranker_image

    asked = []
    monkeypatch.setattr(reranker_image, "serving_info", lambda url: asked.append(url) or {
        "model": "m/tiny@abc", "engine": "openvino", "precision": "fp32"})
    settings = Settings.from_env({"WEAVIATE_DEV_RERANKER_IMAGE": "r:t"})
    args = argparse.Namespace(data_dir=str(nodes))
    detached.report(settings, args, as_json=True)
    found = json.loads(capsys.readouterr().out)
    assert asked == ["http://127.0.0.1:8009"]
    assert found["weaviate_url"] == "http://127.0.0.1:8080" and found["grpc_port"] == 50051
    assert found["reranker_url"] == "http://127.0.0.1:8009"
    assert [(n["node"], n["http"], n["grpc"], n["grpc_port"], n["log"])
            for n in found["nodes"]] == [
        (0, "http://127.0.0.1:8080", "127.0.0.1:50051", 50051, str(tmp_path / "weaviate-0.log")),
        (1, "http://127.0.0.1:8081", "127.0.0.1:50052", 50052, str(tmp_path / "weaviate-1.log"))]
    assert found["reranker"] == {"url": "http://127.0.0.1:8009", "model": "m/tiny@abc",
                                 "engine": "openvino", "precision": "fp32", "image": "r:t"}
    assert found["down"] == f"weaviate-dev down --data-dir {nodes}"
    detached.report(settings, args, as_json=False)
    assert capsys.readouterr().out.splitlines() == [
        f"Weaviate node 0  http://127.0.0.1:8080  gRPC 127.0.0.1:50051  log "
        f"{tmp_path / 'weaviate-0.log'}",
        f"Weaviate node 1  http://127.0.0.1:8081  gRPC 127.0.0.1:50052  log "
        f"{tmp_path / 'weaviate-1.log'}",
        "reranker  http://127.0.0.1:8009  serves m/tiny@abc (engine openvino, fp32)",
        f"both run in the background; stop them with: weaviate-dev down --data-dir {nodes}"]


def test_stdout_goes_to_stderr_inside_and_comes_back_after(capfd):
    with detached.stdout_on_stderr():
        print("from python")
        subprocess.run(["echo", "from a program"], check=True)
    print("after")
    with detached.stdout_on_stderr(enabled=False):
        print("not redirected")
    out, err = capfd.readouterr()
    assert out == "after\nnot redirected\n"
    assert err == "from python\nfrom a program\n"
