"""The Docker engine step without touching the real engine."""

import pytest

from weaviate_dev.core.errors import DevError
from weaviate_dev.services.docker import install as environment


class DeadDaemon:
    returncode = 1

    def poll(self):
        return 1


def test_a_dockerd_that_dies_fails_at_once_with_its_log(tmp_path, monkeypatch):
    log = tmp_path / "dockerd.log"
    log.write_text("failed to start daemon: Iptables not found\n")
    monkeypatch.setattr(environment, "DOCKERD_LOG", log)
    monkeypatch.setattr(environment.process, "spawn", lambda *a, **k: DeadDaemon())
    monkeypatch.setattr(environment.engine, "answers", lambda: False)
    with pytest.raises(DevError, match="Iptables not found"):
        environment.start_engine(timeout=30)


def test_nothing_is_installed_when_an_engine_answers(monkeypatch):
    monkeypatch.setattr(environment.engine, "answers", lambda: True)
    monkeypatch.setattr(environment, "missing_tools", lambda: [])
    monkeypatch.setattr(environment, "install_packages",
                        lambda *a: pytest.fail("must not install"))
    environment.ensure_engine()


def test_missing_packages_are_installed_then_the_engine_started(monkeypatch):
    calls = []
    answers = iter([False, False])
    monkeypatch.setattr(environment.engine, "answers", lambda: next(answers))
    monkeypatch.setattr(environment, "missing_tools", lambda: ["dockerd"])
    monkeypatch.setattr(environment.process, "which",
                        lambda name: None if name == "dockerd" else f"/usr/bin/{name}")
    monkeypatch.setattr(environment, "install_packages", lambda pkgs: calls.append(list(pkgs)))
    monkeypatch.setattr(environment, "start_engine", lambda: calls.append("start"))
    environment.ensure_engine()
    assert calls == [["docker.io"], "start"]
