"""`weaviate-dev setup [STEP ...]`: which steps run, in which order."""

import pytest

from weaviate_dev.cli import main as cli
from weaviate_dev.cli.commands import setup


@pytest.fixture
def ran(monkeypatch):
    ran = []
    monkeypatch.setattr(setup, "STEPS", {name: (lambda settings, name=name: ran.append(name))
                                         for name in setup.STEPS})
    return ran


def test_every_step_by_default_in_order(ran):
    assert cli.main(["setup"]) == 0
    assert ran == ["engine", "base", "weaviate-binary", "weaviate-image"]


def test_named_steps_run_in_the_documented_order(ran):
    assert cli.main(["setup", "weaviate-binary", "engine"]) == 0
    assert ran == ["engine", "weaviate-binary"]


def test_skip_weaviate(ran):
    assert cli.main(["setup", "--skip-weaviate"]) == 0
    assert ran == ["engine", "base"]


def test_an_unknown_step_is_refused_before_any_runs(ran, capsys):
    assert cli.main(["setup", "engine", "dockerd"]) == 2
    assert ran == [] and "unknown step(s) dockerd" in capsys.readouterr().err
