"""`weaviate-dev restart` without Docker: the plan, the order of steps, and failure paths.

Docker, compose and the readiness waits are replaced by recording fakes; subprocesses are
trapped so that a test fails if anything tries to run one.
"""

import functools
import os
import subprocess

import pytest

from weaviate_dev.cli import main as cli
from weaviate_dev.cli.commands import restart
from weaviate_dev.services import compose, ports
from weaviate_dev.services.docker import builds, containers, engine, local_images
from weaviate_dev.services.catalog import Service
from weaviate_dev.services.reranker_image import build as image_build
from weaviate_dev.services.reranker_image import hub as image_hub

REAL_RUN, REAL_POPEN = subprocess.run, subprocess.Popen  # for the real host export test
REAL_BUILD = image_build.build


def tree(root):
    return sorted((str(p.relative_to(root)), p.is_symlink()) for p in root.rglob("*"))


@pytest.fixture
def workspace(tmp_path):
    ws = tmp_path / "ws"
    for name in ("data", "data-weaviate-7", "backups-s3", "src"):
        (ws / name).mkdir(parents=True)
        (ws / name / "f").write_text("x")
    (ws / "schema_state.json").write_text("{}")
    return ws


@pytest.fixture
def no_subprocess(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"a subprocess was started: {args}")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    monkeypatch.setattr(subprocess, "run", refuse)


@pytest.fixture
def data_root(tmp_path, monkeypatch):
    """`run`'s data root (XDG_DATA_HOME/weaviate-dev) as an earlier `run` left it (no marks):
    a profile's and a cluster node's data and logs, a profile's filesystem backups."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    root = tmp_path / "xdg" / "weaviate-dev"
    for name in ("local-reranker-transformers", "development-cluster/weaviate-1"):
        (root / name / "data").mkdir(parents=True)
        (root / name / "data" / "segment.db").write_text("x")
        (root / name / "weaviate.log").write_text("log")
    (root / "local-single-node" / "backups").mkdir(parents=True)
    return root


@pytest.fixture
def docker(monkeypatch, no_subprocess, data_root):
    """Fakes for everything restart asks Docker; `events` records the order of steps."""
    events = []
    fake = type("FakeDocker", (), {})()
    fake.events = events
    fake.image_present = True
    fake.logs = "log line 1\nlog line 2"
    fake.leftovers = ["weaviate-dev_default"]  # what the project still has (down removes it)

    def run(self, argv, **kwargs):
        if "logs" in argv:
            events.append(("logs", argv))
            return subprocess.CompletedProcess(argv, 0, stdout=fake.logs)
        verb = "down" if "down" in argv else "up" if "up" in argv else "?"
        events.append((verb, argv))
        return subprocess.CompletedProcess(argv, 0, stdout="")

    def wait(probe, *, what, timeout, logs=None, **kwargs):
        events.append(("wait", what.split()[0], timeout))
        return 0.1

    monkeypatch.setattr(containers, "compose_command", lambda: containers.STANDALONE)
    monkeypatch.setattr(engine, "version", lambda: events.append(("engine",)) or "20.10")
    monkeypatch.setattr(containers, "project_containers", lambda project: [])
    monkeypatch.setattr(containers, "project_leftovers", lambda project: fake.leftovers)
    monkeypatch.setattr(restart.reranker_image, "_identified", {})  # each test checks anew
    monkeypatch.setattr(local_images, "image_present", lambda ref: fake.image_present)
    monkeypatch.setattr(local_images, "image_labels",
                        lambda ref: {} if fake.image_present else None)
    monkeypatch.setattr(engine, "native_platform", lambda: "linux/amd64")
    monkeypatch.setattr(image_build, "build",
                        lambda settings, tag, model, spec: events.append(("build", tag, model))
                        or "sha256:old")
    monkeypatch.setattr(restart.reranker_image, "describe_serving",
                        lambda url, image: f"what {image} holds")
    monkeypatch.setattr(compose.Compose, "run", run)
    monkeypatch.setattr(restart, "wait_until", wait)
    monkeypatch.setattr(restart.ports, "preflight", functools.partial(
        ports.preflight, is_free=lambda a, p: (True, ""), containers=lambda: {}))
    monkeypatch.setenv("WEAVIATE_DEV_RERANKER_IMAGE", "test/reranker:1")
    monkeypatch.delenv("WEAVIATE_DEV_BIND_ADDRESS", raising=False)
    return fake


def verbs(events):
    return [e[0] if e[0] != "wait" else f"wait:{e[1]}" for e in events]


def test_dry_run_prints_the_plan_and_changes_nothing(workspace, monkeypatch, no_subprocess,
                                                     capsys):
    monkeypatch.setattr(containers, "compose_command", lambda: containers.STANDALONE)
    before = tree(workspace)
    code = cli.main(["restart", "--reranker", "--s3", "--dry-run", "--workspace",
                     str(workspace)])
    out = capsys.readouterr().out
    assert code == 0
    assert tree(workspace) == before
    assert "reranker-transformers" in out and "127.0.0.1:8009->8080" in out
    assert "127.0.0.1:9000->9000, 127.0.0.1:9001->9001" in out
    assert "docker-compose -p weaviate-dev -f " in out and " down --remove-orphans" in out
    assert " up -d --no-build reranker-transformers backup-s3" in out
    for path in ("data/", "data-weaviate-7/", "backups-s3/", "schema_state.json"):
        assert f"  {path}\n" in out
    assert "src/" not in out


def test_dry_run_with_keep_data(workspace, monkeypatch, no_subprocess, capsys):
    monkeypatch.setattr(containers, "compose_command", lambda: containers.PLUGIN)
    assert cli.main(["restart", "--dry-run", "--keep-data", "--workspace",
                     str(workspace)]) == 0
    out = capsys.readouterr().out
    assert "state: kept" in out and "docker compose -p weaviate-dev" in out
    assert "(none: no service flag given)" in out


def test_order_checks_then_down_then_state_then_up_then_waits(workspace, docker):
    code = cli.main(["restart", "--ollama", "--reranker", "--workspace", str(workspace)])
    assert code == 0
    assert verbs(docker.events) == ["engine", "down", "up", "wait:reranker-transformers",
                                    "wait:ollama"]
    up = docker.events[2][1]
    assert up[-4:] == ["-d", "--no-build", "reranker-transformers", "ollama"]
    assert sorted(p.name for p in workspace.iterdir()) == ["src"]
    assert docker.events[3][2] == 300  # the reranker's own timeout from the catalog


def test_a_project_with_nothing_left_is_not_taken_down(workspace, docker, capsys):
    """compose down on a project with no container or network only says 'Network ... not
    found': restart skips it, as `down` does."""
    docker.leftovers = []
    assert cli.main(["restart", "--reranker", "--workspace", str(workspace)]) == 0
    assert "down" not in verbs(docker.events) and "up" in verbs(docker.events)
    assert "compose project weaviate-dev: nothing running to stop" in capsys.readouterr().err


def test_state_is_deleted_only_after_down(workspace, docker, monkeypatch):
    seen = {}
    original = compose.Compose.run

    def run(self, argv, **kwargs):
        if "down" in argv:
            seen["data_at_down"] = (workspace / "data").exists()
        if "up" in argv:
            seen["data_at_up"] = (workspace / "data").exists()
        return original(self, argv, **kwargs)

    monkeypatch.setattr(compose.Compose, "run", run)
    assert cli.main(["restart", "--reranker", "--workspace", str(workspace)]) == 0
    assert seen == {"data_at_down": True, "data_at_up": False}


def test_keep_data_keeps_state(workspace, docker):
    before = tree(workspace)
    assert cli.main(["restart", "--reranker", "--keep-data", "--workspace",
                     str(workspace)]) == 0
    assert tree(workspace) == before


def test_taken_port_stops_everything_before_it_acts(workspace, docker, monkeypatch, capsys):
    monkeypatch.setattr(restart.ports, "preflight", functools.partial(
        ports.preflight, is_free=lambda a, p: (p != 8009, "address already in use"),
        containers=lambda: {8009: "Docker container someone-else"}))
    before = tree(workspace)
    code = cli.main(["restart", "--reranker", "--s3", "--workspace", str(workspace)])
    err = capsys.readouterr().err
    assert code == 1
    assert "127.0.0.1:8009 (for reranker-transformers) is taken" in err
    assert "someone-else" in err and "nothing was stopped, deleted or started" in err
    assert verbs(docker.events) == ["engine"]
    assert tree(workspace) == before


def test_ports_held_by_our_own_project_do_not_block(workspace, docker, monkeypatch):
    own = containers.ContainerState("reranker-transformers", "weaviate-dev_r_1", "running",
                                       "-", ("127.0.0.1:8009->8080/tcp",), (8009,))
    monkeypatch.setattr(containers, "project_containers", lambda project: [own])
    monkeypatch.setattr(restart.ports, "preflight", functools.partial(
        ports.preflight, is_free=lambda a, p: (p != 8009, "in use"), containers=lambda: {}))
    assert cli.main(["restart", "--reranker", "--workspace", str(workspace)]) == 0


def test_not_ready_in_time_shows_50_log_lines_and_fails(workspace, docker, monkeypatch,
                                                        capsys):
    from weaviate_dev.core.waiting import wait_until

    monkeypatch.setattr(restart, "wait_until", wait_until)
    monkeypatch.setattr(Service, "readiness_probe",
                        lambda self, address: (lambda: "GET /.well-known/ready: HTTP 503"))
    code = cli.main(["restart", "--reranker", "--timeout", "0.2", "--workspace",
                     str(workspace)])
    err = capsys.readouterr().err
    assert code == 1
    assert "reranker-transformers" in err and "not ready after" in err and "HTTP 503" in err
    assert "log line 2" in err
    logs = [e[1] for e in docker.events if e[0] == "logs"]
    assert logs and logs[0][-3:] == ["--tail", "50", "reranker-transformers"]


def test_a_missing_reranker_image_is_built_before_anything_is_stopped_or_deleted(
        workspace, docker, monkeypatch, capsys, hub):
    """A build that fails (or is interrupted) leaves everything as it was; the image it
    replaced is removed after `down`, when no container runs it."""
    removed = []
    monkeypatch.setattr(local_images, "remove_unused",
                        lambda ids: removed.append((list(ids), verbs(docker.events))) or 0)
    docker.image_present = False
    assert cli.main(["restart", "--reranker", "--workspace", str(workspace)]) == 0
    assert verbs(docker.events)[:4] == ["engine", "build", "down", "up"]
    [(_, tag, model)] = [e for e in docker.events if e[0] == "build"]
    commit = hub.commit(MINILM)
    assert (tag, model.name, model.revision) == ("test/reranker:1", MINILM, commit)
    assert "--build" not in docker.events[3][1]
    assert removed == [(["sha256:old"], ["engine", "build", "down"])]
    err = capsys.readouterr().err
    assert f"reranker model: {MINILM}@{commit}" in err
    assert "reranker image: test/reranker:1: not found: building it with model " \
        f"{MINILM}@{commit}, engine openvino" in err


MINILM = "cross-encoder/ms-marco-MiniLM-L-6-v2"


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """A hub serving MINILM (config, weights, tokenizer, an ONNX export, a README), the
    toolkit's and Hugging Face's caches this test's own, no image holding a model."""
    from reranker.testing.fake_hub import FakeHub

    repository = tmp_path / "repository"
    (repository / "onnx").mkdir(parents=True)
    for name in ("config.json", "model.safetensors", "tokenizer.json", "onnx/model.onnx",
                 "README.md"):
        (repository / name).write_text("{}")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for name in ("HF_HOME", "HF_HUB_CACHE", "HF_HUB_OFFLINE", "HF_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(local_images, "labelled", lambda label: [])
    monkeypatch.delenv("WEAVIATE_DEV_MODEL_DIR", raising=False)
    with FakeHub({MINILM: repository}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        yield hub


def a_closed_port() -> str:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.mark.parametrize("outage, said", [
    ("no connection", "could not be reached (Connection refused), and no commit of it at main "
                      "is remembered here"),
    ("503", "could not be reached (it answered 503), and no commit of it at main is remembered "
            "here"),
])
def test_a_model_that_cannot_be_found_stops_restart_before_anything_is_built(
        workspace, docker, monkeypatch, capsys, hub, outage, said):
    monkeypatch.setattr(image_build, "build",
                        lambda *a, **k: pytest.fail("an image build started"))
    if outage == "503":
        hub.outage = 503
    else:
        monkeypatch.setenv("HF_ENDPOINT", a_closed_port())
    docker.image_present = False
    before = tree(workspace)
    assert cli.main(["restart", "--reranker", "--workspace", str(workspace)]) == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("weaviate-dev restart: error: the reranker image needs the model "
                           "cross-encoder/ms-marco-MiniLM-L-6-v2, and it cannot be found: the hub "
                           "http://127.0.0.1:")
    assert said in line
    assert "WEAVIATE_DEV_MODEL_DIR=/path/to/model" in line and "network access" in line
    assert verbs(docker.events) == ["engine"] and tree(workspace) == before


def test_a_mistyped_model_name_stops_restart_with_one_line_and_no_token_advice(
        workspace, docker, monkeypatch, capsys, hub):
    monkeypatch.setenv("WEAVIATE_DEV_MODEL_NAME", "cross-encoder/ms-marco-MiniLM-L-6-v3")
    docker.image_present = False
    assert cli.main(["restart", "--reranker", "--workspace", str(workspace)]) == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("weaviate-dev restart: error: there is no model "
                           f"cross-encoder/ms-marco-MiniLM-L-6-v3 on {hub.url}")
    assert "HF_TOKEN" not in line and verbs(docker.events) == ["engine"]


def test_a_model_once_built_restarts_when_the_hub_cannot_be_asked(
        workspace, docker, monkeypatch, capsys, hub):
    docker.image_present = False
    assert cli.main(["restart", "--reranker", "--workspace", str(workspace)]) == 0
    commit = hub.commit(MINILM)
    monkeypatch.setattr(restart.reranker_image, "_identified", {})  # a new run
    monkeypatch.setenv("HF_ENDPOINT", a_closed_port())
    capsys.readouterr()
    assert cli.main(["restart", "--reranker", "--workspace", str(workspace)]) == 0
    err = capsys.readouterr().err
    [line] = [line for line in err.splitlines() if "could not be reached" in line]
    assert f"(Connection refused): using {MINILM}@{commit}, the commit main pointed to when the " \
           "hub was last reached, at " in line
    assert f"reranker model: {MINILM}@{commit}" in err


def test_a_model_dir_that_is_no_model_is_refused_before_anything_is_built(
        workspace, docker, monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(image_hub, "model_files",
                        lambda *a, **k: pytest.fail("the hub was asked despite a model dir"))
    monkeypatch.setenv("WEAVIATE_DEV_MODEL_DIR", str(tmp_path))
    docker.image_present = False
    assert cli.main(["restart", "--reranker", "--workspace", str(workspace)]) == 1
    assert f"WEAVIATE_DEV_MODEL_DIR={tmp_path} is not a model directory" in \
        capsys.readouterr().err
    assert verbs(docker.events) == ["engine"]


def test_a_model_that_needs_its_own_code_is_refused_in_one_line_before_a_build(
        workspace, docker, monkeypatch, capsys, tmp_path):
    import json

    (tmp_path / "config.json").write_text(json.dumps({
        "architectures": ["NewModelForSequenceClassification"], "model_type": "new",
        "auto_map": {"AutoModelForSequenceClassification": "modeling.NewModel"}}))
    monkeypatch.setenv("WEAVIATE_DEV_MODEL_DIR", str(tmp_path))
    docker.image_present = False
    assert cli.main(["restart", "--reranker", "--workspace", str(workspace)]) == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "NewModelForSequenceClassification (model_type 'new')" in line
    assert "ENGINE=torch" in line and "Traceback" not in line
    assert verbs(docker.events) == ["engine"]


def test_an_export_that_fails_on_the_host_is_one_line_naming_the_architecture(
        workspace, docker, monkeypatch, capsys, tmp_path):
    """The host export (where torch is) fails as the image build's would: its one line is
    what the user reads, not the export's warnings or a traceback."""
    import json

    from weaviate_dev.services import reranker_image

    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text(json.dumps({
        "architectures": ["NonesuchForSequenceClassification"], "model_type": "nonesuch"}))
    (model / "model.safetensors").write_bytes(b"weights")
    monkeypatch.setenv("WEAVIATE_DEV_MODEL_DIR", str(model))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(image_build, "build", REAL_BUILD)
    monkeypatch.setattr(image_build.images, "ensure_base_image",
                        lambda settings: "base:1")
    monkeypatch.setattr(builds, "build",
                        lambda *a, **k: pytest.fail("the image build started"))
    monkeypatch.setattr(subprocess, "run", REAL_RUN)  # the real export, on this host's torch
    monkeypatch.setattr(subprocess, "Popen", REAL_POPEN)
    docker.image_present = False
    assert cli.main(["restart", "--reranker", "--workspace", str(workspace)]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert "Traceback" not in "\n".join(lines)
    error = lines[-1]
    assert error.startswith("weaviate-dev restart: error: ")
    assert "NonesuchForSequenceClassification (model_type 'nonesuch')" in error
    assert "ENGINE=torch" in error


def test_a_present_image_needs_no_model(workspace, docker, monkeypatch):
    monkeypatch.setattr(image_hub, "model_files",
                        lambda *a, **k: pytest.fail("the hub was asked for a present image"))
    monkeypatch.delenv("WEAVIATE_DEV_MODEL_DIR", raising=False)
    assert cli.main(["restart", "--reranker", "--workspace", str(workspace)]) == 0


def test_keycloak_gets_its_demo_user_after_it_is_ready(workspace, docker, monkeypatch):
    calls = []
    monkeypatch.setattr(restart.keycloak, "create_user",
                        lambda url: calls.append((url, verbs(docker.events))) or "created")
    assert cli.main(["restart", "--keycloak", "--workspace", str(workspace)]) == 0
    assert calls == [("http://127.0.0.1:9090", ["engine", "down", "up", "wait:keycloak"])]


@pytest.mark.parametrize("argv", [["--voyagemulti"], ["--reranker", "--s3x"],
                                  ["--workspace", "/nonexistent-dir-xyz", "--reranker"],
                                  ["--also-delete", "../elsewhere"]])
def test_bad_input_fails_before_docker_is_touched(argv, docker, workspace, capsys):
    before = tree(workspace)
    if "--workspace" not in argv:
        argv = [*argv, "--workspace", str(workspace)]
    try:
        code = cli.main(["restart", *argv])
    except SystemExit as exc:  # argparse itself rejects unknown flags
        code = exc.code
    assert code == 2
    assert docker.events == []
    assert tree(workspace) == before


def test_bind_address_setting_reaches_plan_and_compose(workspace, docker, monkeypatch,
                                                       capsys):
    monkeypatch.setenv("WEAVIATE_DEV_BIND_ADDRESS", "0.0.0.0")
    assert cli.main(["restart", "--reranker", "--dry-run", "--workspace",
                     str(workspace)]) == 0
    assert "0.0.0.0:8009->8080" in capsys.readouterr().out

    assert compose.compose_environment(
        restart.Settings.from_env(), workspace)["WEAVIATE_DEV_BIND_ADDRESS"] == "0.0.0.0"


def test_restart_deletes_the_data_of_run_profiles_as_the_original_did(workspace, docker,
                                                                      data_root, capsys):
    """The original deleted the dev server's data: so does restart, for every profile `run`
    keeps under its data root (a cluster's nodes too); logs and records stay."""
    assert cli.main(["restart", "--reranker", "--workspace", str(workspace)]) == 0
    assert not list(data_root.glob("**/data")) and not list(data_root.glob("**/backups"))
    assert sorted(p.name for p in data_root.rglob("weaviate.log")) == ["weaviate.log"] * 2
    assert f"deleted the data and backups of the Weaviate profiles under {data_root} " \
        "(3 directories" in capsys.readouterr().err


def test_keep_data_keeps_the_data_of_run_profiles(workspace, docker, data_root):
    before = tree(data_root)
    assert cli.main(["restart", "--reranker", "--keep-data", "--workspace",
                     str(workspace)]) == 0
    assert tree(data_root) == before


def test_dry_run_lists_the_run_data_it_would_delete(workspace, monkeypatch, no_subprocess,
                                                    data_root, capsys):
    monkeypatch.setattr(containers, "compose_command", lambda: containers.STANDALONE)
    before = tree(data_root)
    assert cli.main(["restart", "--dry-run", "--workspace", str(workspace)]) == 0
    out = capsys.readouterr().out
    assert f"  {data_root}/local-reranker-transformers/data/ (data of `run`)" in out
    assert f"  {data_root}/development-cluster/weaviate-1/data/ (data of `run`)" in out
    assert f"  {data_root}/local-single-node/backups/ (data of `run`)" in out
    assert tree(data_root) == before


def test_a_data_dir_is_the_root_restart_deletes_in(workspace, docker, tmp_path, data_root):
    other = tmp_path / "elsewhere"
    for name in ("p", "local-single-node"):
        (other / name / "data").mkdir(parents=True)
    before = tree(data_root)
    assert cli.main(["restart", "--data-dir", str(other), "--workspace", str(workspace)]) == 0
    assert not (other / "local-single-node" / "data").exists() and tree(data_root) == before
    assert (other / "p" / "data").is_dir()  # no profile's: not run's to delete


@pytest.fixture
def foreign(data_root):
    """Directories of the user's own beside run's data: named like run's, made by someone else."""
    made = {data_root / "myproject" / "data" / "important.csv": "a,b",
            data_root / "notes" / "backups" / "2026.tar": "tar",
            data_root / "development-cluster" / "weaviate-01" / "data" / "x": "not a node",
            data_root / "local-reranker-transformers" / "backups" / "b": "no backups there"}
    for path, text in made.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return made


def test_restart_deletes_only_what_run_made(workspace, docker, data_root, foreign, capsys):
    assert cli.main(["restart", "--data-dir", str(data_root), "--workspace",
                     str(workspace)]) == 0
    assert all(path.read_text() == text for path, text in foreign.items())
    assert not (data_root / "local-reranker-transformers" / "data").exists()
    assert not (data_root / "local-single-node" / "backups").exists()
    assert "(3 directories" in capsys.readouterr().err


def test_the_dry_run_names_what_it_leaves_alone(workspace, monkeypatch, no_subprocess,
                                                data_root, foreign, capsys):
    monkeypatch.setattr(containers, "compose_command", lambda: containers.STANDALONE)
    assert cli.main(["restart", "--dry-run", "--data-dir", str(data_root), "--workspace",
                     str(workspace)]) == 0
    out = capsys.readouterr().out
    deleted, _, left = out.partition("not made by weaviate-dev: left alone:\n")
    assert f"{data_root}/local-reranker-transformers/data/ (data of `run`)" in deleted
    for path in foreign:
        directory = f"{path.parent}/"
        assert directory not in deleted and f"  {directory}\n" in left


def test_a_directory_run_made_is_deleted_wherever_it_made_it(workspace, docker, data_root):
    from weaviate_dev.weaviate import marker

    made = data_root / "my-data" / "data"  # PERSISTENCE_DATA_PATH pointed into the data root
    marker.make(made, data_root, "local-development")
    (made / "segment.db").write_text("x")
    copied = data_root / "copy" / "data"  # the user's copy of it: run did not make it there
    copied.mkdir(parents=True)
    (copied / marker.NAME).write_text((made / marker.NAME).read_text())
    assert cli.main(["restart", "--workspace", str(workspace)]) == 0
    assert not made.exists() and (copied / marker.NAME).is_file()


@pytest.mark.parametrize("where", ["/", "home", "project", "checkout"])
def test_a_data_dir_holding_the_home_or_the_project_is_refused(workspace, docker, tmp_path,
                                                               monkeypatch, capsys, where):
    from weaviate_dev.core import tree

    home, checkout = tmp_path / "home" / "me", tmp_path / "code" / "app"
    (checkout / ".git").mkdir(parents=True)
    (checkout / "src").mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(checkout / "src")
    root = {"/": "/", "home": str(home.parent), "project": str(tree.project_root()),
            "checkout": str(checkout.parent)}[where]
    assert cli.main(["restart", "--data-dir", root, "--workspace", str(workspace)]) == 1
    [err] = capsys.readouterr().err.splitlines()  # one line
    assert "refusing to delete the data of `run` under" in err
    assert docker.events == []
    assert cli.main(["restart", "--keep-data", "--data-dir", root, "--workspace",
                     str(workspace)]) == 0


def test_a_weaviate_started_after_the_check_keeps_its_data(workspace, docker, data_root,
                                                            monkeypatch, capsys):
    """`run` starting in another terminal while restart builds or stops: the check is made
    again, under the data root's lock, right before anything is deleted."""
    from weaviate_dev.weaviate import groups, running

    real_run = compose.Compose.run

    def down_then_a_run_starts(self, argv, **kwargs):
        if "down" in argv:  # this test's own process stands for the Weaviate run started
            me = groups.Member.current()
            running.RunFile(data_root / "local-reranker-transformers").add(running.Record.of(
                "local-reranker-transformers", me, owner=me, http=8080, grpc=50051))
        return real_run(self, argv, **kwargs)

    monkeypatch.setattr(compose.Compose, "run", down_then_a_run_starts)
    before = tree(data_root)
    assert cli.main(["restart", "--reranker", "--workspace", str(workspace)]) == 1
    err = capsys.readouterr().err
    assert f"local-reranker-transformers (pid {os.getpid()}) is running" in err
    assert "the compose services were stopped; nothing was deleted or started" in err
    assert [p for p in tree(data_root) if "running" not in p[0] and "lock" not in p[0]] == before
    assert "up" not in verbs(docker.events)


def test_data_under_a_running_weaviate_is_never_deleted(workspace, docker, data_root,
                                                        monkeypatch, capsys):
    from weaviate_dev.weaviate import running

    class Alive:
        label, pid = "local-reranker-transformers", 4242

        @staticmethod
        def alive():
            return True

    monkeypatch.setattr(running.RunFile, "records", lambda self: [Alive()])
    (data_root / "local-reranker-transformers" / running.FILE).write_text("[]")
    before = tree(data_root)
    assert cli.main(["restart", "--reranker", "--workspace", str(workspace)]) == 1
    err = capsys.readouterr().err
    assert "Weaviate local-reranker-transformers (pid 4242) is running" in err
    assert "weaviate-dev down" in err and "--keep-data" in err
    assert verbs(docker.events) == ["engine"] and tree(data_root) == before


def test_a_symlinked_profile_directory_is_not_followed(workspace, docker, data_root, tmp_path):
    outside = tmp_path / "precious"
    (outside / "data").mkdir(parents=True)
    (outside / "data" / "keep").write_text("x")
    (data_root / "linked").symlink_to(outside)
    assert cli.main(["restart", "--workspace", str(workspace)]) == 0
    assert (outside / "data" / "keep").is_file()
