"""A test run SIGKILLed mid-suite leaves nothing that the next session does not remove first.

Stand-ins for a run (child processes, as a pytest process would) make what the fixtures make:
a labelled container and network, a temporary directory named after the run. One is
SIGKILLed; the next pytest session's start removes its leftovers and keeps those of the run
that is still alive.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from weaviate_dev.testing import sweep

# A run that makes a directory (and, given an image, a container and a network), says what it
# made on one line, and then waits to be killed.
STAND_IN = textwrap.dedent("""
    import json, sys, time
    from weaviate_dev.testing import sweep

    made = {"directory": str(sweep.mkdtemp("stand-in"))}
    if len(sys.argv) > 1:
        import docker

        client, name = docker.from_env(), sys.argv[2]
        made["container"] = client.containers.create(
            sys.argv[1], command=["/absent"], name=name, labels=sweep.labels()).id
        made["network"] = client.networks.create(name, labels=sweep.labels()).id
    print(json.dumps(made), flush=True)
    time.sleep(600)
""")
SCRATCH_IMAGE = "weaviate-dev/test-sweep:scratch"  # an empty image: containers are only created


def stand_in(temp_dir: Path, *args: str) -> tuple[subprocess.Popen, dict]:
    proc = subprocess.Popen([sys.executable, "-c", STAND_IN, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ,
                                                                    "TMPDIR": str(temp_dir)})
    line = proc.stdout.readline()
    assert line, proc.stderr.read()
    return proc, json.loads(line)


def killed(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait()


@pytest.fixture
def temp_dir(tmp_path):
    path = tmp_path / "tmp"
    path.mkdir()
    return path


def test_a_dead_runs_directory_is_swept_a_live_runs_is_kept(temp_dir):
    dead, dead_made = stand_in(temp_dir)
    live, live_made = stand_in(temp_dir)
    try:
        killed(dead)
        removed = sweep.sweep(temp_dir=temp_dir)
        assert not Path(dead_made["directory"]).exists()
        assert Path(live_made["directory"]).is_dir()
        assert removed == [f"directory {dead_made['directory']} (run "
                           f"{sweep.directory_run(Path(dead_made['directory']))})"]
    finally:
        killed(live)
    assert sweep.sweep(temp_dir=temp_dir) == [f"directory {live_made['directory']} (run "
                                              f"{sweep.directory_run(Path(live_made['directory']))})"]


def test_a_run_is_its_process_not_its_pid():
    me = sweep.Run.current()
    assert me.alive() and sweep.Run.parse(str(me)) == me
    assert not replace(me, started=me.started - 50_000).alive()  # a reused pid
    assert sweep.Run("another-host", 1, 0).alive()  # not ours to judge
    assert sweep.Run.parse("not a run") is None


def test_a_clock_step_keeps_a_live_run_alive(clock_step):
    me = sweep.Run.current()
    clock_step(3600)
    assert me.alive()
    clock_step(-3600, starts_move=False)
    assert me.alive()


def test_labels_and_directories_of_earlier_runs_are_read():
    me = sweep.Run.current()
    assert sweep.Run.parse(f"{me.host}/{me.pid}/{me.started}") == replace(me, boot=None)
    assert sweep.Run.parse(f"{me.host}/{me.pid}/{me.started}").alive()
    old = Path(f"/tmp/{sweep.DIR_PREFIX}{me.pid}-{me.started}-purpose-x1y2")
    assert sweep.directory_run(old) == replace(me, boot=None)


def test_an_earlier_sweep_cannot_read_a_new_label_and_so_leaves_it():
    # the sweep before the boot time read `host/pid/started` with int(): it must fail on the
    # new form rather than read another pid from it
    me = sweep.Run.current()
    host, _, started = str(me).rpartition("/")
    with pytest.raises(ValueError):
        int(started)


def test_the_fixtures_containers_and_directories_carry_the_run(monkeypatch):
    import testcontainers.core.container as tc

    from weaviate_dev.testing.containers import PrometheusContainer, RerankerContainer

    class NoEngine:
        def __init__(self, **kwargs):
            pass

    monkeypatch.setattr(tc, "DockerClient", NoEngine)
    me = str(sweep.Run.current())
    assert RerankerContainer("img")._kwargs["labels"][sweep.LABEL] == me
    prometheus = PrometheusContainer("img", ["reranker:8080"])
    try:
        config = Path(prometheus.config_dir)
        assert prometheus._kwargs["labels"][sweep.LABEL] == me
        assert sweep.directory_run(config) == sweep.Run.current()
    finally:
        prometheus.stop()  # removes its directory
    assert not config.exists()


@pytest.fixture(scope="module")
def scratch_image(weaviate_dev_docker):
    weaviate_dev_docker.images.build(fileobj=io.BytesIO(b"FROM scratch\nLABEL purpose=test\n"),
                                     tag=SCRATCH_IMAGE, rm=True)
    return SCRATCH_IMAGE


@pytest.mark.docker
def test_the_next_session_removes_what_a_killed_run_left_and_keeps_a_live_runs(
        weaviate_dev_docker, scratch_image, temp_dir, tmp_path):
    import docker.errors

    name = f"weaviate-dev-test-sweep-{uuid.uuid4().hex[:8]}"
    dead, dead_made = stand_in(temp_dir, scratch_image, f"{name}-dead")
    live, live_made = stand_in(temp_dir, scratch_image, f"{name}-live")
    try:
        killed(dead)  # SIGKILL: no cleanup of its own ran
        (tmp_path / "test_nothing.py").write_text("def test_nothing():\n    pass\n")
        (tmp_path / "test_containers.py").write_text(
            "def test_a_network(weaviate_dev_network):\n    pass\n")

        def session(name):
            done = subprocess.run(
                [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", name],
                cwd=tmp_path, capture_output=True, text=True, timeout=300,
                env={**os.environ, "TMPDIR": str(temp_dir)})
            assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
            return done.stdout

        # A session that starts no container asks Docker nothing, so sweeps nothing ...
        assert "leftovers" not in session("test_nothing.py")
        weaviate_dev_docker.containers.get(dead_made["container"])
        # ... the next one that does sweeps before its first container.
        out = session("test_containers.py")
        assert "removed 3 leftovers of test runs that no longer run" in out, out[-3000:]
        with pytest.raises(docker.errors.NotFound):
            weaviate_dev_docker.containers.get(dead_made["container"])
        with pytest.raises(docker.errors.NotFound):
            weaviate_dev_docker.networks.get(dead_made["network"])
        assert not Path(dead_made["directory"]).exists()
        weaviate_dev_docker.containers.get(live_made["container"])  # the live run's: kept
        weaviate_dev_docker.networks.get(live_made["network"])
        assert Path(live_made["directory"]).is_dir()
    finally:
        killed(live)
        sweep.sweep(weaviate_dev_docker, temp_dir)
    with pytest.raises(docker.errors.NotFound):
        weaviate_dev_docker.containers.get(live_made["container"])


@pytest.mark.docker
def test_the_sessions_network_carries_the_run(weaviate_dev_network):
    labels = weaviate_dev_network._network.attrs["Labels"]
    assert labels[sweep.LABEL] == str(sweep.Run.current())
