"""Ctrl-C at every stage leaves nothing behind: no container, no process, no half-made image.

Each test starts the real CLI as a user would (its own session, SIGINT at its default: a
process started with SIGINT ignored would prove nothing), waits for the line that says the
stage has begun, sends SIGINT to the whole process group (what a terminal's Ctrl-C does) and
then looks at what is left: compose containers and networks, images, listening ports.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import psutil
import pytest

from integration_tests.conftest import Cli, leftovers, port_is_free, weaviate_dev_cli
from weaviate_dev.core.errors import DevError
from weaviate_dev.services.docker import local_images
from weaviate_dev.testing.cli_process import CliProcess
from weaviate_dev.testing.pytest_plugin import unavailable
from weaviate_dev.weaviate import source as weaviate_source

pytestmark = pytest.mark.docker

PROJECT = "weaviate-dev-ctrlc-itest"
# The engine goes on with a build whose client went away, but only our client tags (after a
# whole successful build; unit-tested): a few seconds of watching catch a regression.
LATE_TAG_SECONDS = 5
WEAVIATE_PORTS = (8080, 50051, 7946, 8300)


@pytest.fixture
def env(cli_reranker_image, tmp_path) -> dict:
    environ = dict(os.environ, WEAVIATE_DEV_RERANKER_IMAGE=cli_reranker_image)
    for key in ("PERSISTENCE_DATA_PATH", "WEAVIATE_DEV_BIND_ADDRESS"):
        environ.pop(key, None)
    for port in (8009, *WEAVIATE_PORTS):
        assert port_is_free(port), f"127.0.0.1:{port} is taken before the test"
    return environ


@pytest.fixture
def workspace(tmp_path) -> Path:
    """A workspace with state restart would delete, so that we see whether it did."""
    (tmp_path / "ws" / "data").mkdir(parents=True)
    (tmp_path / "ws" / "data" / "marker").write_text("kept")
    return tmp_path / "ws"


@pytest.fixture
def cleanup(env, tmp_path):
    """Whatever a failed test left: its CLI killed, its compose projects down."""
    started: list[Cli] = []
    yield started
    for cli in started:
        cli.kill()
    for project in (PROJECT, "weaviate-dev"):
        if leftovers(project):
            weaviate_dev_cli("down", "-p", project, env=env, cwd=tmp_path, timeout=300)


def unique_ca_bundle(env: dict, tmp_path: Path, marker: str) -> Path:
    """The CA bundle the build would use, plus a comment of its own: the build context's
    certs/ layer changes, so every step after it (the venv's install: many seconds) runs
    again. Without it a build cached by earlier tests can finish and be tagged, rightly,
    before the Ctrl-C arrives, and this test would test nothing."""
    import requests.certs  # requests' own bundle, where the build was given none

    source = (env.get("WEAVIATE_DEV_CA_BUNDLE") or env.get("PIP_CERT")
              or requests.certs.where())
    text = Path(source).read_text()
    bundle = tmp_path / "ca-bundle.crt"
    bundle.write_text(f"{text}\n# weaviate-dev Ctrl-C test {marker}\n")
    return bundle


def test_restart_interrupted_while_building_tags_nothing_and_starts_nothing(
        env, workspace, weaviate_dev_reranker_model_dir, tmp_path, cleanup):
    marker = uuid.uuid4().hex[:8]
    tag = f"weaviate-dev/reranker-transformers:ctrlc-{marker}"
    env = {**env, "WEAVIATE_DEV_RERANKER_IMAGE": tag,
           "WEAVIATE_DEV_MODEL_DIR": str(weaviate_dev_reranker_model_dir),
           "WEAVIATE_DEV_CA_BUNDLE": str(unique_ca_bundle(env, tmp_path, marker))}
    cli = Cli("restart", "--reranker", "-p", PROJECT, "--workspace", str(workspace),
              env=env, cwd=tmp_path)
    cleanup.append(cli)
    cli.wait_for(f"building {tag}")
    code = cli.ctrl_c()
    assert code == 130 and "interrupted" in cli.output(), cli.output()[-3000:]
    # The engine may go on with a build whose client is gone; it must not end up tagged.
    for _ in range(LATE_TAG_SECONDS):
        assert not local_images.image_present(tag)
        time.sleep(1)
    assert leftovers(PROJECT) == [] and port_is_free(8009)
    assert (workspace / "data" / "marker").read_text() == "kept"  # nothing was deleted yet


def test_restart_interrupted_while_waiting_stops_what_it_started(env, workspace, tmp_path,
                                                                 cleanup):
    cli = Cli("restart", "--reranker", "-p", PROJECT, "--workspace", str(workspace),
              env=env, cwd=tmp_path)
    cleanup.append(cli)
    cli.wait_for("waiting for reranker-transformers")
    code = cli.ctrl_c()
    assert code == 130, cli.output()[-3000:]
    assert "interrupted: stopping what was started" in cli.output()
    assert leftovers(PROJECT) == [] and port_is_free(8009)


@pytest.fixture
def weaviate_binary(weaviate_dev_settings, tmp_path):
    try:
        weaviate_source.locate(weaviate_dev_settings, cwd=tmp_path)
    except DevError as exc:
        unavailable(weaviate_dev_settings, f"no Weaviate binary for `weaviate-dev run`: {exc}")


def test_run_interrupted_while_weaviate_starts_leaves_no_process(env, tmp_path,
                                                                 weaviate_binary, cleanup):
    # No reranker runs: Weaviate waits for it before opening its port, so it is mid-start.
    cli = Cli("run", "local-reranker-transformers", "--data-dir", str(tmp_path / "data"),
              env=env, cwd=tmp_path)
    cleanup.append(cli)
    cli.wait_for("(Ctrl-C stops Weaviate)")
    time.sleep(2)  # the server process is up and loading
    code = cli.ctrl_c()
    assert code in (0, 130), cli.output()[-3000:]
    assert "interrupted (SIGINT): stopping Weaviate" in cli.output(), cli.output()[-3000:]
    assert all(port_is_free(port) for port in WEAVIATE_PORTS), cli.output()[-3000:]


def test_dev_interrupted_while_weaviate_serves_stops_weaviate_and_the_reranker(
        env, workspace, tmp_path, weaviate_binary, cleanup):
    assert leftovers("weaviate-dev") == [], "the default compose project is in use"
    cli = Cli("dev", "--workspace", str(workspace), env=env, cwd=tmp_path)
    cleanup.append(cli)
    cli.wait_for("Weaviate is ready")
    assert not port_is_free(8009) and not port_is_free(8080)
    code = cli.ctrl_c()
    assert code in (0, 130), cli.output()[-3000:]
    assert leftovers("weaviate-dev") == [], cli.output()[-3000:]
    assert all(port_is_free(port) for port in (8009, *WEAVIATE_PORTS))


ROOT = Path(__file__).resolve().parents[1]


def weaviates_under(data_root: Path) -> list[int]:
    """Pids of the Weaviate processes whose data lies under data_root."""
    found = []
    for proc in psutil.process_iter(["name"]):
        try:
            if str(data_root) in proc.environ().get("PERSISTENCE_DATA_PATH", ""):
                found.append(proc.pid)
        except psutil.Error:
            continue
    return found


def test_make_dev_interrupted_through_a_pipe_whose_reader_exits_leaves_nothing(
        env, workspace, tmp_path, weaviate_binary, cleanup):
    """`make dev 2>&1 | tee dev.log` in a terminal, Ctrl-C once Weaviate is ready: the Ctrl-C
    ends tee at once, and every later line has no reader. The shutdown still stops Weaviate
    (cleanly: not killed by SIGPIPE) and then the reranker: no container, process or port.
    Through make, which runs `weaviate-dev dev` into the same pipe: the one case covers both."""
    assert leftovers("weaviate-dev") == [], "the default compose project is in use"
    # The Makefile's own recipe; the venv is there already (no sync).
    argv = ["make", "-C", str(workspace), "-f", str(ROOT / "Makefile"), "dev",
            f"VENV={ROOT / '.venv'}", "SYNC=true"]
    cli = CliProcess(argv, env=env, cwd=tmp_path, through_tee=True)
    cleanup.append(cli)
    cli.wait_for("Weaviate is ready")
    data_root = Path(env["XDG_DATA_HOME"]) / "weaviate-dev"
    assert weaviates_under(data_root) and not port_is_free(8009)
    cli.ctrl_c()
    assert cli.tee.wait(timeout=10) is not None  # the reader went with the Ctrl-C
    log = cli.output()
    assert leftovers("weaviate-dev") == [], log[-3000:]
    assert weaviates_under(data_root) == [], log[-3000:]
    assert all(port_is_free(port) for port in (8009, *WEAVIATE_PORTS)), log[-3000:]
