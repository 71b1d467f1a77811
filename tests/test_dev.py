import argparse

import pytest

from weaviate_dev.cli import build_parser
from weaviate_dev.commands import dev


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


def test_dev_checks_the_model_before_any_setup_step_or_build(monkeypatch, capsys):
    from weaviate_dev import cli, compose, reranker_model
    from weaviate_dev.commands import setup
    from weaviate_dev.errors import DevError

    events = []
    monkeypatch.setattr(compose, "image_present", lambda ref: False)

    def no_model(settings):
        events.append("model")
        raise DevError("the reranker image needs the model m, and it cannot be had")

    monkeypatch.setattr(reranker_model, "require_model", no_model)
    monkeypatch.setattr(setup, "run_steps", lambda *a: events.append("setup"))
    monkeypatch.setattr(cli, "main", lambda argv: events.append(argv[0]) or 0)
    with pytest.raises(DevError, match="cannot be had"):
        dev.handle(parse(), cli.Settings.from_env())
    assert events == ["model"]


def test_dev_runs_setup_then_restart_then_run(monkeypatch, tmp_path):
    from weaviate_dev import cli, compose
    from weaviate_dev.commands import setup

    events = []
    monkeypatch.setattr(compose, "image_present", lambda ref: True)
    monkeypatch.setattr(setup, "run_steps", lambda settings, names: events.append(list(names)))
    monkeypatch.setattr(cli, "main", lambda argv: events.append(argv[0]) or 0)
    monkeypatch.setenv("WEAVIATE_DEV_WEAVIATE_BIN", str(tmp_path / "absent"))
    assert dev.handle(parse(), cli.Settings.from_env()) == 0
    assert events == [["engine", "weaviate-binary"], "restart", "run"]
    binary = tmp_path / "weaviate-server"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    events.clear()
    assert dev.handle(parse("--weaviate-bin", str(binary)), cli.Settings.from_env()) == 0
    assert events == [["engine"], "restart", "run"]
