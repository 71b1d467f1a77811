"""weaviate_build.py with a fake `go`: the module source copied once and writable, the binary
built from that copy (so `run --weaviate-src` on it shares Go's build cache), build info."""

from __future__ import annotations

import json
import os
import stat
import sys
import textwrap
from pathlib import Path

import pytest

from weaviate_dev.core.errors import DevError
from weaviate_dev.core.settings import Settings
from weaviate_dev.weaviate import build as weaviate_build

FAKE_GO = textwrap.dedent("""\
    #!{python}
    import json, os, sys
    log = os.environ["FAKE_GO_LOG"]
    with open(log, "a") as f:
        f.write(json.dumps({{"argv": sys.argv[1:], "cwd": os.getcwd()}}) + "\\n")
    if sys.argv[1:3] == ["mod", "download"]:
        print("go: downloading github.com/weaviate/weaviate v1.39.0", file=sys.stderr)
        print(json.dumps({{"Path": "github.com/weaviate/weaviate", "Version": "v1.39.0",
                          "Dir": os.environ["FAKE_MODULE_DIR"]}}, indent="\\t"))
    elif sys.argv[1] == "build" and os.environ.get("FAKE_GO_FAIL"):
        print("# github.com/weaviate/weaviate/modules/reranker-transformers/clients")
        print("modules/reranker-transformers/clients/ranker.go:104:2: syntax error: "
              "unexpected name x", file=sys.stderr)
        sys.exit(1)
    elif sys.argv[1] == "build":
        import time
        time.sleep(float(os.environ.get("FAKE_GO_BUILD_SECONDS", "0")))
        out = sys.argv[sys.argv.index("-o") + 1]
        open(out, "w").write("#!/bin/sh\\n")
        os.chmod(out, 0o755)
""")


@pytest.fixture
def fake_go(tmp_path, monkeypatch, executable):
    bin_dir = executable(tmp_path / "bin" / "go", FAKE_GO.format(python=sys.executable)).parent
    module = tmp_path / "gomod" / "github.com" / "weaviate" / "weaviate@v1.39.0"
    (module / "cmd" / "weaviate-server").mkdir(parents=True)
    (module / "go.mod").write_text("module github.com/weaviate/weaviate\n\ngo 1.24\n")
    (module / "cmd" / "weaviate-server" / "main.go").write_text("package main\n")
    for path in [module / "go.mod", module / "cmd" / "weaviate-server" / "main.go",
                 module / "cmd" / "weaviate-server", module / "cmd", module]:
        path.chmod(stat.S_IMODE(path.stat().st_mode) & ~0o222)  # like Go's module cache
    log = tmp_path / "go.log"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_GO_LOG", str(log))
    monkeypatch.setenv("FAKE_MODULE_DIR", str(module))
    yield log
    for root, dirs, _ in os.walk(tmp_path / "gomod"):
        for name in dirs:
            os.chmod(os.path.join(root, name), 0o755)


def calls(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def settings(tmp_path) -> Settings:
    return Settings.from_env({"XDG_CACHE_HOME": str(tmp_path / "cache")})


def test_the_binary_is_built_from_a_writable_copy_of_the_module(fake_go, tmp_path):
    s = settings(tmp_path)
    path = weaviate_build.ensure_binary(s)
    source = tmp_path / "cache" / "weaviate-dev" / "weaviate-1.39.0" / "src"
    assert path == source.parent / "weaviate-server" and path.is_file()
    download, build = calls(fake_go)
    assert download["argv"] == ["mod", "download", "-json", "github.com/weaviate/weaviate@v1.39.0"]
    assert build["cwd"] == str(source)
    argv = build["argv"]
    # written beside it, then renamed into place: a running binary is never half-written
    assert argv[0] == "build" and argv[-3:] == ["-o", f"{path}.partial", "./cmd/weaviate-server"]
    (source / "cmd" / "weaviate-server" / "main.go").write_text("package main // edited\n")
    assert not (source.parent / "src.partial").exists()
    # a second call changes nothing
    assert weaviate_build.ensure_binary(s) == path and len(calls(fake_go)) == 2


def test_two_processes_asking_at_once_build_once(fake_go, tmp_path, monkeypatch):
    """A background `setup weaviate-binary` and a test (or two terminals): the second waits
    for the first build, says so, and uses its binary; nothing is downloaded or built twice."""
    import subprocess

    monkeypatch.setenv("FAKE_GO_BUILD_SECONDS", "2")
    code = ("from weaviate_dev.core.settings import Settings\n"
            "from weaviate_dev.weaviate import build\n"
            "print(build.ensure_binary(Settings.from_env()))")
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"))
    first = subprocess.Popen([sys.executable, "-c", code], env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    while not (tmp_path / "go.log").is_file():  # the first has started its download
        assert first.poll() is None, first.communicate()
    second = subprocess.run([sys.executable, "-c", code], env=env, text=True,
                            capture_output=True, timeout=60)
    out, _ = first.communicate(timeout=60)
    assert first.returncode == 0 and second.returncode == 0, second.stderr
    assert out == second.stdout
    assert [c["argv"][0] for c in calls(fake_go)] == ["mod", "build"]
    assert "waiting for another process that is building Weaviate" in second.stderr


def test_the_source_is_copied_once(fake_go, tmp_path):
    s = settings(tmp_path)
    first = weaviate_build.ensure_source(s)
    assert weaviate_build.ensure_source(s) == first
    assert [c["argv"][0] for c in calls(fake_go)] == ["mod"]


def test_a_module_go_cannot_find_is_a_clear_error(fake_go, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_MODULE_DIR", "")
    with pytest.raises(DevError, match="go mod download github.com/weaviate/weaviate@v1.39.0"):
        weaviate_build.ensure_source(settings(tmp_path))


def test_without_go_the_error_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(DevError, match="WEAVIATE_DEV_WEAVIATE_BIN"):
        weaviate_build.ensure_binary(settings(tmp_path))


def test_a_tree_compiles_into_its_own_cache_folder_release_or_debug(fake_go, tmp_path):
    s = settings(tmp_path)
    tree = tmp_path / "weaviate"
    (tree / "cmd" / "weaviate-server").mkdir(parents=True)
    release = weaviate_build.compile_checkout(s, tree, ldflags="-X a=b")
    debug = weaviate_build.compile_checkout(s, tree, debug=True)
    assert release.is_file() and debug.is_file() and release != debug
    assert release.parent.parent == debug.parent.parent  # one folder per tree
    other = weaviate_build.checkout_binary(s, tmp_path / "other" / "weaviate")
    assert other.parent.parent != release.parent.parent  # keyed by the tree's path
    first, second = calls(fake_go)
    assert first["cwd"] == str(tree) and "-gcflags" not in first["argv"]
    assert first["argv"][first["argv"].index("-ldflags") + 1] == "-X a=b"
    assert second["argv"][1:3] == ["-gcflags", "all=-N -l"]  # Delve's: no optimisation, inlining


def test_a_compile_error_names_file_and_line_and_keeps_the_previous_binary(
        fake_go, tmp_path, monkeypatch):
    s = settings(tmp_path)
    tree = tmp_path / "weaviate"
    (tree / "cmd" / "weaviate-server").mkdir(parents=True)
    built = weaviate_build.compile_checkout(s, tree)
    built.write_text("the previous build")
    monkeypatch.setenv("FAKE_GO_FAIL", "1")
    with pytest.raises(weaviate_build.CompileError) as failed:
        weaviate_build.compile_checkout(s, tree)
    assert failed.value.lines == ["modules/reranker-transformers/clients/ranker.go:104:2: "
                                  "syntax error: unexpected name x"]
    assert "ranker.go:104:2" in str(failed.value)
    assert built.read_text() == "the previous build"
    assert not built.with_name(built.name + ".partial").exists()


def test_a_build_of_a_tree_another_process_is_building_waits_for_it(fake_go, tmp_path, capsys):
    """A prebuild (`setup weaviate-debug` in the background) and `run --debug` of one tree:
    the second go build starts only when the first is done (then Go's cache has it all)."""
    from weaviate_dev.core import locks

    s = settings(tmp_path)
    tree = tmp_path / "weaviate"
    (tree / "cmd" / "weaviate-server").mkdir(parents=True)
    output = weaviate_build.checkout_binary(s, tree, debug=True)
    with locks.held(output.with_name(".build.lock")):
        import threading

        done = threading.Event()
        thread = threading.Thread(target=lambda: (weaviate_build.compile_checkout(
            s, tree, debug=True), done.set()))
        thread.start()
        assert not done.wait(1.0), "the second build did not wait for the first"
        assert not fake_go.exists() or calls(fake_go) == []
    thread.join(30)
    assert done.is_set() and len(calls(fake_go)) == 1
    assert "waiting for another build of" in capsys.readouterr().err


def test_the_debug_prebuild_is_the_build_run_debug_makes(fake_go, tmp_path):
    s = settings(tmp_path)
    from weaviate_dev.weaviate import source_run

    built = source_run.prebuild_debug(s)
    assert built == weaviate_build.checkout_binary(s, weaviate_build.source_dir(s), debug=True)
    build = [c for c in calls(fake_go) if c["argv"][0] == "build"]
    assert [c["argv"][1:3] for c in build] == [["-gcflags", "all=-N -l"]]
    assert build[0]["cwd"] == str(weaviate_build.source_dir(s))
