import argparse

import pytest

from weaviate_dev.cli.commands import dev
from weaviate_dev.services import reranker_image
from weaviate_dev.cli.main import build_parser


def parse(*argv):
    return build_parser().parse_args(["dev", *argv])


def test_dev_is_restart_reranker_then_the_reranker_profile():
    assert dev.steps(parse()) == [["restart", "--reranker"],
                                  ["run", "local-reranker-transformers"]]


def test_dev_passes_options_on():
    restart, run = dev.steps(parse("--keep-data", "--dry-run", "--weaviate-bin", "/b/w"))
    assert restart == ["restart", "--reranker", "--keep-data", "--dry-run"]
    assert run == ["run", "local-reranker-transformers", "--dry-run", "--weaviate-bin", "/b/w"]


def test_dev_steps_parse_as_real_commands():
    parser = build_parser()
    for argv in dev.steps(parse("--image")):
        assert isinstance(parser.parse_args(argv), argparse.Namespace)


def model_source():
    from weaviate_dev.services.reranker_image.model import ModelSource

    return ModelSource("directory", "/m", "ab" * 32, ("config.json",))


MODEL = model_source()


@pytest.fixture
def recorded(monkeypatch):
    """dev's steps recorded instead of run: setup steps, restart/run, the final down."""
    from weaviate_dev.cli.commands import restart, setup

    from weaviate_dev.services.reranker_image import model as image_model

    events = []
    monkeypatch.setattr(reranker_image, "_identified", {})
    monkeypatch.setattr(image_model, "resolve", lambda settings: MODEL)
    monkeypatch.setattr(setup, "run_steps", lambda settings, names: events.append(list(names)))
    monkeypatch.setattr(dev, "run_step", lambda argv, settings: events.append(argv[0]) or 0)
    monkeypatch.setattr(restart, "stop_project",
                        lambda settings, workspace=None: events.append("down"))
    return events


def settings():
    from weaviate_dev.core.settings import Settings

    return Settings.from_env()


def test_dev_checks_the_model_before_any_setup_step_or_build(monkeypatch, recorded):
    from weaviate_dev.core.errors import DevError
    from weaviate_dev.services.reranker_image import model as image_model
    from weaviate_dev.services.docker import local_images

    monkeypatch.setattr(local_images, "image_present", lambda ref: False)

    def no_model(settings):
        recorded.append("model")
        raise DevError("the reranker image needs the model m, and it cannot be found")

    monkeypatch.setattr(image_model, "resolve", no_model)
    with pytest.raises(DevError, match="cannot be found"):
        dev.handle(parse(), settings())
    assert recorded == ["model"]


def test_dev_runs_setup_then_restart_then_run_then_stops_the_reranker(monkeypatch, tmp_path,
                                                                       recorded):
    from weaviate_dev.services.docker import local_images

    monkeypatch.setattr(local_images, "image_present", lambda ref: True)
    monkeypatch.setenv("WEAVIATE_DEV_WEAVIATE_BIN", str(tmp_path / "absent"))
    assert dev.handle(parse(), settings()) == 0
    assert recorded == [["engine", "weaviate-binary"], "restart", "run", "down"]
    binary = tmp_path / "weaviate-server"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    recorded.clear()
    assert dev.handle(parse("--weaviate-bin", str(binary), "--keep-reranker"), settings()) == 0
    assert recorded == [["engine"], "restart", "run"]


def test_ctrl_c_in_weaviate_still_stops_the_reranker(monkeypatch, recorded):
    from weaviate_dev.services.docker import local_images

    monkeypatch.setattr(local_images, "image_present", lambda ref: True)
    monkeypatch.setattr(dev, "setup_steps", lambda args, settings: [])

    def interrupted(argv, settings):
        recorded.append(argv[0])
        if argv[0] == "run":
            raise KeyboardInterrupt

    monkeypatch.setattr(dev, "run_step", interrupted)
    with pytest.raises(KeyboardInterrupt):
        dev.handle(parse(), settings())
    assert recorded == [[], "restart", "run", "down"]


def test_dev_passes_the_workspace_to_restart():
    restart, _ = dev.steps(parse("--workspace", "/w"))
    assert restart == ["restart", "--reranker", "--workspace", "/w"]


def test_dev_nodes_is_the_reranker_cluster_with_every_node():
    restart, run = dev.steps(parse("--nodes", "3", "--data-dir", "/d", "--weaviate-bin", "/b/w"))
    assert restart == ["restart", "--reranker", "--data-dir", "/d"]  # its data is deleted
    assert run == ["run", "local-reranker-cluster", "--all-nodes", "--nodes", "3",
                   "--data-dir", "/d", "--weaviate-bin", "/b/w"]
    _, single = dev.steps(parse("--data-dir", "/d"))
    assert single == ["run", "local-reranker-transformers", "--data-dir", "/d"]


@pytest.mark.parametrize("nodes", ["0", "-2"])
def test_dev_nodes_must_be_one_or_more(nodes, capsys):
    with pytest.raises(SystemExit):
        parse("--nodes", nodes)
    assert "--nodes: must be 1 or more" in capsys.readouterr().err


def test_dev_says_where_the_model_comes_from_once(monkeypatch, capsys):
    """dev checks the model before its setup steps; the restart it runs then does not check
    (and say) it again."""
    from weaviate_dev.cli.commands import restart, setup
    from weaviate_dev.services.reranker_image import model as image_model
    from weaviate_dev.services.docker import local_images

    monkeypatch.setattr(reranker_image, "_identified", {})
    monkeypatch.setattr(local_images, "image_present", lambda ref: False)
    monkeypatch.setattr(image_model, "resolve", lambda settings: MODEL)
    monkeypatch.setattr(setup, "run_steps", lambda settings, names: None)
    monkeypatch.setattr(restart, "stop_project", lambda settings, workspace=None: None)

    def run_step(argv, settings):  # restart's own check, as its preflight makes it
        if argv[0] == "restart":
            reranker_image.check_model(settings)
        return 0

    monkeypatch.setattr(dev, "run_step", run_step)
    assert dev.handle(parse(), settings()) == 0
    assert capsys.readouterr().err.count(f"reranker model: {MODEL.describe()}") == 1


def test_dev_detach_runs_weaviate_detached():
    restart, run = dev.steps(parse("--detach", "--nodes", "3"))
    assert restart == ["restart", "--reranker"]
    assert run == ["run", "local-reranker-cluster", "--all-nodes", "--nodes", "3", "--detach"]


def test_json_goes_with_detach(recorded):
    from weaviate_dev.core.errors import UsageError

    with pytest.raises(UsageError, match="--json needs --detach"):
        dev.handle(parse("--json"), settings())
    assert recorded == []


@pytest.fixture
def detached_dev(monkeypatch, recorded):
    """dev --detach with its steps recorded; the report records what it was asked to print."""
    from weaviate_dev.cli import detached
    from weaviate_dev.services.docker import local_images

    monkeypatch.setattr(local_images, "image_present", lambda ref: True)
    monkeypatch.setattr(dev, "setup_steps", lambda args, settings: [])
    monkeypatch.setattr(detached, "report", lambda settings, args, as_json: recorded.append(
        f"report json={as_json}"))
    return recorded


def test_a_detached_start_leaves_the_reranker_running_and_reports(detached_dev):
    assert dev.handle(parse("--detach", "--json"), settings()) == 0
    assert detached_dev == [[], "restart", "run", "report json=True"]


@pytest.mark.parametrize("failure", [1, KeyboardInterrupt])
def test_a_detached_start_that_fails_stops_the_reranker(monkeypatch, detached_dev, failure):
    def run_step(argv, settings):
        detached_dev.append(argv[0])
        if argv[0] == "run":
            if failure is KeyboardInterrupt:
                raise KeyboardInterrupt
            return failure
        return 0

    monkeypatch.setattr(dev, "run_step", run_step)
    if failure is KeyboardInterrupt:
        with pytest.raises(KeyboardInterrupt):
            dev.handle(parse("--detach"), settings())
    else:
        assert dev.handle(parse("--detach"), settings()) == failure
    assert detached_dev == [[], "restart", "run", "down"]


def test_with_json_every_line_of_the_start_goes_to_stderr(monkeypatch, capfd, detached_dev):
    import subprocess

    from weaviate_dev.cli import detached

    def noisy(argv, settings):
        print(f"{argv[0]}: a line for the terminal")
        subprocess.run(["echo", f"{argv[0]}: a line from a program it runs"], check=True)
        return 0

    monkeypatch.setattr(dev, "run_step", noisy)
    monkeypatch.setattr(detached, "report",
                        lambda settings, args, as_json: print('{"weaviate_url": "x"}'))
    assert dev.handle(parse("--detach", "--json"), settings()) == 0
    out, err = capfd.readouterr()
    assert out == '{"weaviate_url": "x"}\n'
    for step in ("restart", "run"):
        assert f"{step}: a line for the terminal" in err
        assert f"{step}: a line from a program it runs" in err
