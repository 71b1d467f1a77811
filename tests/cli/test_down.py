"""`weaviate-dev down`: compose down only when the project has something left."""

import pytest

from weaviate_dev.cli import main as cli
from weaviate_dev.services import compose
from weaviate_dev.services.docker import containers, engine


@pytest.fixture
def calls(monkeypatch):
    seen = []
    monkeypatch.setattr(engine, "answers", lambda: True)
    monkeypatch.setattr(containers, "compose_command", lambda: containers.STANDALONE)
    monkeypatch.setattr(compose.Compose, "run", lambda self, argv, **kw: seen.append(argv))
    return seen


def test_a_project_with_nothing_left_is_not_taken_down_again(calls, monkeypatch, tmp_path,
                                                             capsys):
    monkeypatch.setattr(containers, "project_leftovers", lambda project: [])
    assert cli.main(["down", "--data-dir", str(tmp_path), "-p", "nothing-here"]) == 0
    assert calls == []
    assert "compose project nothing-here: no containers or networks" in capsys.readouterr().err


def test_a_project_with_a_network_left_is_taken_down(calls, monkeypatch, tmp_path):
    monkeypatch.setattr(containers, "project_leftovers", lambda project: ["p_default"])
    assert cli.main(["down", "--data-dir", str(tmp_path), "-p", "p"]) == 0
    [argv] = calls
    assert argv[-2:] == ["down", "--remove-orphans"]
