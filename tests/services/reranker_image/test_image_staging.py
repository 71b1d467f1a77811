"""A model's files for the image, had on the host: a hub model downloaded outside the build
into the user's Hugging Face cache (pinned to the resolved commit, its progress on the
terminal, the token in that download only), torch weights exported here for an ONNX engine
and kept in the cache; two processes staging one model take turns, and what a killed one
left is resumed or removed by the next."""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from reranker.testing.fake_hub import FakeHub
from weaviate_dev.core.settings import Settings
from weaviate_dev.services.reranker_image import staging
from weaviate_dev.services.reranker_image import model as image_model


def settings(tmp_path, **overrides) -> Settings:
    base = Settings.from_env({"XDG_CACHE_HOME": str(tmp_path / "cache")})
    return dataclasses.replace(base, **{"ca_bundle": None, **overrides})


@pytest.fixture
def tiny(weaviate_dev_reranker_model_dir):
    """The session's tiny model (the root conftest makes it once)."""
    return weaviate_dev_reranker_model_dir


@pytest.fixture
def big(make_repository):
    """A repository whose weights take a while to download from a slow hub (20 MB)."""
    return make_repository("big", os.urandom(20 << 20))


def downloads(hub) -> list[str]:
    """The files the hub served (GET of a file)."""
    return sorted(path.split("/resolve/")[1] for method, path, _ in hub.log
                  if method == "GET" and "/resolve/" in path)


def test_a_hub_model_is_downloaded_once_into_the_hugging_face_cache(tmp_path, tiny, capsys):
    with FakeHub({"org/tiny": tiny}, gated={"org/tiny": "hf_ok"}) as hub:
        wanted = settings(tmp_path, model_name="org/tiny", hf_endpoint=hub.url,
                          hf_token="hf_ok", reranker_engine="torch")
        model = image_model.resolve(wanted)
        staged = staging.model_files(wanted, model)
        first = capsys.readouterr().err
        requests_made = len(hub.log)
        again = staging.model_files(wanted, model)
        assert len(hub.log) == requests_made  # from the cache, no request
    assert [name for name, _ in staged] == list(model.files)
    snapshot = wanted.hf_hub_cache / "models--org--tiny" / "snapshots" / model.revision
    for name, path in staged:
        assert path == snapshot / name and path.read_bytes() == (tiny / name).read_bytes()
    assert again == staged
    assert "found in the Hugging Face cache" in capsys.readouterr().err
    assert downloads(hub) and all(p.startswith(f"{model.revision}/") for p in downloads(hub))
    assert not (wanted.cache_dir / "models").exists()  # no second copy of the model
    assert f"downloading org/tiny@{model.revision} (4 files) into the Hugging Face cache" \
        in first


def test_a_download_shows_its_progress_on_a_terminal(tmp_path, big, capsys, monkeypatch):
    """huggingface_hub's bars (they show on a terminal only): bytes of the total."""
    hub_bars = importlib.import_module("huggingface_hub.utils.tqdm")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    # A reranker engine loaded earlier in this process (another test) turned the bars off for
    # the whole process (transformers' disable_progress_bar); the CLI loads no engine.
    monkeypatch.setattr(hub_bars, "progress_bar_states", {})
    with FakeHub({"org/big": big}) as hub:
        wanted = settings(tmp_path, model_name="org/big", hf_endpoint=hub.url,
                          reranker_engine="torch")
        staging.model_files(wanted, image_model.resolve(wanted))
    err = capsys.readouterr().err
    assert re.search(r"\d+\.\dMB / 21\.0MB", err), err[-2000:]  # the weights: 21.0 MB
    assert "21.0MB / 21.0MB" in err


def test_files_already_in_the_users_hugging_face_cache_are_not_downloaded_again(
        tmp_path, tiny):
    import huggingface_hub

    with FakeHub({"org/tiny": tiny}) as hub:
        wanted = settings(tmp_path, model_name="org/tiny", hf_endpoint=hub.url,
                          reranker_engine="torch")
        model = image_model.resolve(wanted)
        huggingface_hub.hf_hub_download("org/tiny", "model.safetensors", endpoint=hub.url,
                                        revision=model.revision,
                                        cache_dir=wanted.hf_hub_cache)  # another tool's
        hub.log.clear()
        staging.model_files(wanted, model)
    assert downloads(hub) and "model.safetensors" not in " ".join(downloads(hub))


def test_a_failed_download_is_one_line_and_leaves_nothing_in_the_toolkits_cache(tmp_path,
                                                                               tiny):
    from weaviate_dev.core.errors import DevError

    with FakeHub({"org/tiny": tiny}) as hub:
        wanted = settings(tmp_path, model_name="org/tiny", hf_endpoint=hub.url,
                          reranker_engine="torch")
        model = image_model.resolve(wanted)
        gone = dataclasses.replace(model, revision="f" * 40)  # a commit the hub never had
        with pytest.raises(DevError) as failed:
            staging.model_files(wanted, gone)
    assert str(failed.value).startswith(f"org/tiny has no revision '{'f' * 40}'")
    assert "\n" not in str(failed.value)
    assert not (wanted.cache_dir / "models").exists()


def test_a_commit_whose_files_are_not_known_here_is_listed_when_a_build_needs_them(tmp_path,
                                                                                 tiny):
    with FakeHub({"org/tiny": tiny}) as hub:
        commit = hub.commit("org/tiny")
        wanted = settings(tmp_path, model_name="org/tiny", hf_endpoint=hub.url,
                          model_revision=commit, reranker_engine="torch")
        model = image_model.resolve(wanted)
        assert model.files == () and hub.log == []
        staged = dict(staging.model_files(wanted, model))
    assert "config.json" in staged and "model.safetensors" in staged


def test_torch_weights_are_exported_here_once_for_an_onnx_engine(tmp_path, tiny, capsys,
                                                                  monkeypatch):
    wanted = settings(tmp_path, model_dir=tiny, reranker_engine="openvino")
    model = image_model.resolve(wanted)
    assert model.needs_export
    staged = dict(staging.model_files(wanted, model))
    assert "model.safetensors" not in staged and "onnx/model.onnx" in staged
    stamp = json.loads(staged["onnx/export.json"].read_text())
    assert stamp["source"] and stamp["model_type"] == "bert"
    assert not (tiny / "onnx").exists()  # the user's directory is never written
    monkeypatch.setattr(staging.process, "run",
                        lambda *a, **k: pytest.fail("exported a second time"))
    assert dict(staging.model_files(wanted, model)) == staged
    assert "ONNX export of" in capsys.readouterr().err


# --- two processes, and killed ones -------------------------------------------------------

STAGE = """
import dataclasses, json, sys
from weaviate_dev.core.settings import Settings
from weaviate_dev.services.reranker_image import model, staging
options = json.loads(sys.argv[1])
settings = dataclasses.replace(Settings.from_env({"XDG_CACHE_HOME": options.pop("cache")}),
                               ca_bundle=None, **options)
staged = staging.model_files(settings, model.resolve(settings))
print(json.dumps([[name, str(path)] for name, path in staged]), flush=True)
"""


class Lines:
    """A child's stderr, read line by line in the background (tqdm's \\r updates split too)."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.seen: list[str] = []
        self._queue: queue.Queue = queue.Queue()

        def read() -> None:
            for line in iter(proc.stderr.readline, ""):
                for part in line.split("\r"):
                    self._queue.put(part)

        threading.Thread(target=read, daemon=True).start()

    def until(self, text: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                break
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"no line with {text!r}; seen:\n" + "".join(self.seen[-30:]))


def stage_in_a_process(tmp_path, hub_url: str, spawned) -> tuple[subprocess.Popen, Lines]:
    options = {"cache": str(tmp_path / "cache"), "model_name": "org/big",
               "hf_endpoint": hub_url, "reranker_engine": "torch"}
    proc = subprocess.Popen([sys.executable, "-c", STAGE, json.dumps(options)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    spawned.append(proc)
    return proc, Lines(proc)


def test_two_processes_staging_one_model_take_turns(tmp_path, big, spawned):
    """The second waits while the first downloads, then finds the files in the cache: each
    file crosses the network once."""
    release = threading.Event()
    with FakeHub({"org/big": big}) as hub:
        hub.on_file = lambda name: name == "model.safetensors" and release.wait(60)
        first, first_lines = stage_in_a_process(tmp_path, hub.url, spawned)
        first_lines.until("downloading org/big@")
        second, second_lines = stage_in_a_process(tmp_path, hub.url, spawned)
        try:
            second_lines.until("waiting for another weaviate-dev process that is "
                               "downloading org/big@")
        finally:
            release.set()
        assert first.wait(60) == 0 and second.wait(60) == 0
        second_lines.until("found in the Hugging Face cache")
        served = downloads(hub)
    assert sorted(served) == sorted(set(served)) and len(served) == 3, served
    assert json.loads(first.stdout.read()) == json.loads(second.stdout.read())


def test_what_a_download_killed_midway_left_is_removed_by_the_next_run(tmp_path, big, spawned,
                                                                       capsys):
    """huggingface_hub writes a file under a name of its own (`<etag>.<random>.incomplete`)
    and never resumes it: the next run removes it, says so, and downloads in full."""
    from weaviate_dev.services.reranker_image import leftovers

    blobs = tmp_path / "cache" / "huggingface" / "hub" / "models--org--big" / "blobs"
    with FakeHub({"org/big": big}) as hub:
        # The weights stop after 15 of their 20 MB; huggingface_hub writes 10 MB at a time.
        hub.hold_after = 15 << 20
        proc, _ = stage_in_a_process(tmp_path, hub.url, spawned)
        deadline = time.monotonic() + 60
        while not any(p.stat().st_size >= (10 << 20) for p in blobs.glob("*.incomplete")):
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        [left] = blobs.glob("*.incomplete")
        size = left.stat().st_size
        hub.hold_after = None
        wanted = settings(tmp_path, model_name="org/big", hf_endpoint=hub.url,
                          reranker_engine="torch")
        leftovers._swept.clear()
        capsys.readouterr()
        staged = dict(staging.model_files(wanted, image_model.resolve(wanted)))
    err = capsys.readouterr().err
    assert ("removed what an interrupted download of org/big left in the Hugging Face cache "
            f"{wanted.hf_hub_cache} ({size / 1e6:.0f} MB freed)") in err
    assert staged["model.safetensors"].read_bytes() == (big / "model.safetensors").read_bytes()
    assert not list(blobs.glob("*.incomplete"))


def test_a_download_in_progress_is_not_removed(tmp_path, big, spawned):
    from weaviate_dev.services.reranker_image import hub as image_hub

    blobs = tmp_path / "cache" / "huggingface" / "hub" / "models--org--big" / "blobs"
    release = threading.Event()
    with FakeHub({"org/big": big}) as hub:
        hub.slow = 0.05
        hub.on_file = lambda name: name == "model.safetensors" and release.wait(60)
        proc, _ = stage_in_a_process(tmp_path, hub.url, spawned)
        deadline = time.monotonic() + 60
        while not list(blobs.glob("*.incomplete")):
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        wanted = settings(tmp_path, model_name="org/big", hf_endpoint=hub.url)
        try:
            assert image_hub.remove_abandoned(wanted, "org/big") == 0
            assert list(blobs.glob("*.incomplete"))
        finally:
            release.set()
        assert proc.wait(60) == 0


KILLED = """
import dataclasses, sys, time
from pathlib import Path
from weaviate_dev.core.settings import Settings
from weaviate_dev.services.reranker_image import context, model, staging
settings = dataclasses.replace(Settings.from_env({"XDG_CACHE_HOME": sys.argv[1]}),
                               ca_bundle=None, model_dir=Path(sys.argv[2]),
                               reranker_engine="openvino")
found = model.resolve(settings)
staged = [(name, Path(sys.argv[2]) / name) for name in found.files]
if sys.argv[3] == "export":  # an export that never ends
    staging.process.run = lambda *a, **k: (print("exporting", flush=True), time.sleep(600))
    staging.export_here(settings, found, staged, "model.onnx")
else:  # a build that never ends, its context written
    with context.temporary_tar(settings, staged):
        print("context", flush=True)
        time.sleep(600)
"""


def test_what_killed_runs_left_in_the_cache_is_removed_by_the_next(tmp_path, tiny, spawned,
                                                                    capsys):
    from weaviate_dev.services import reranker_image

    procs = []
    for what, said in (("export", "exporting"), ("context", "context")):
        proc = subprocess.Popen([sys.executable, "-c", KILLED, str(tmp_path / "cache"),
                                 str(tiny), what], stdout=subprocess.PIPE, text=True,
                                start_new_session=True)
        spawned.append(proc)
        assert proc.stdout.readline().strip() == said
        procs.append(proc)
    cache = tmp_path / "cache" / "weaviate-dev"
    left = [*cache.glob("exports/.partial-*"), *cache.glob("tmp/weaviate-dev-context-*")]
    assert len(left) == 2
    wanted = settings(tmp_path, model_dir=tiny, reranker_engine="openvino")
    reranker_image.leftovers._swept.clear()
    reranker_image.check_model(wanted)  # its makers run: nothing is removed
    assert all(path.exists() for path in left)
    for proc in procs:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    reranker_image.leftovers._swept.clear()
    capsys.readouterr()
    reranker_image._identified.clear()
    reranker_image.check_model(wanted)
    err = capsys.readouterr().err
    size = sum(p.stat().st_size for p in tiny.iterdir() if p.is_file()) / 1e6
    assert f"removed what interrupted runs left in {cache}: 1 unfinished ONNX export, " \
           "1 build context (" in err
    freed = float(err.split("build context (")[1].split(" MB freed")[0])
    assert freed >= int(size) - 1
    assert not any(path.exists() for path in left)
