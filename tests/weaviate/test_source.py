"""Where Weaviate comes from (weaviate_source.py): order, checkout detection, exact commands."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from weaviate_dev.core.errors import DevError, UsageError
from weaviate_dev.core.settings import Settings
from weaviate_dev.weaviate import source as weaviate_source
from weaviate_dev.weaviate.delve import Debugger
from weaviate_dev.weaviate.profiles import ProfileCatalog


def make_checkout(root: Path) -> Path:
    (root / "cmd" / "weaviate-server").mkdir(parents=True)
    (root / "go.mod").write_text("module github.com/weaviate/weaviate\n\ngo 1.24\n")
    return root


def make_binary(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def settings(tmp_path, **kw) -> Settings:
    env = {"WEAVIATE_DEV_ROOT": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache"), **kw}
    return Settings.from_env(env)


@pytest.fixture
def no_default_binary(monkeypatch, tmp_path):
    """Keep the real machine's binaries out of the search."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def test_checkout_detected_from_a_subdirectory(tmp_path):
    root = make_checkout(tmp_path / "weaviate")
    (root / "usecases" / "build").mkdir(parents=True)
    assert weaviate_source.find_checkout(root / "usecases" / "build") == root.resolve()
    other = tmp_path / "other"
    other.mkdir()
    (other / "go.mod").write_text("module example.com/other\n")
    (other / "cmd" / "weaviate-server").mkdir(parents=True)
    assert weaviate_source.find_checkout(other) is None


def test_order_flags_then_checkout_then_binaries(tmp_path, no_default_binary):
    root = make_checkout(tmp_path / "weaviate")
    binary = make_binary(tmp_path / "bin" / "weaviate-server")
    s = settings(tmp_path, WEAVIATE_DEV_WEAVIATE_BIN=str(binary))
    nowhere = tmp_path / "empty"
    nowhere.mkdir()
    home = tmp_path / "home"

    def locate(**kw):
        kw.setdefault("cwd", nowhere)
        return weaviate_source.locate(s, home=home, which=lambda _: None, **kw)

    assert locate(src=str(root)).kind == "source"
    assert locate(binary=str(binary)).path == binary
    assert locate(image="").image == s.weaviate_image
    assert locate(image="my/weaviate:dev").image == "my/weaviate:dev"
    found = locate(cwd=root / "cmd")
    assert (found.kind, found.path) == ("source", root.resolve())
    found = locate()
    assert (found.kind, found.path, found.why) == ("binary", binary, "WEAVIATE_DEV_WEAVIATE_BIN")
    with pytest.raises(UsageError, match="choose one"):
        locate(src=str(root), image="")


def test_fallback_binaries_go_bin_then_path(tmp_path, no_default_binary):
    s = settings(tmp_path)
    home = tmp_path / "home"
    cwd = tmp_path / "empty"
    cwd.mkdir()
    on_path = make_binary(tmp_path / "path" / "weaviate-server")
    found = weaviate_source.locate(s, cwd=cwd, home=home, which=lambda _: str(on_path))
    assert (found.path, found.why) == (on_path, "on PATH")
    go_bin = make_binary(home / "go" / "bin" / "weaviate-server")
    found = weaviate_source.locate(s, cwd=cwd, home=home, which=lambda _: str(on_path))
    assert found.path == go_bin
    built = make_binary(tmp_path / "cache" / "weaviate-dev" /
                        f"weaviate-{s.weaviate_version}" / "weaviate-server")
    found = weaviate_source.locate(s, cwd=cwd, home=home, which=lambda _: None)
    assert found.path == built


def test_nothing_found_with_go_here_says_what_to_do(tmp_path, no_default_binary):
    """Go is here: `setup` (and `dev`) builds the binary, as the error says."""
    cwd = tmp_path / "empty"
    cwd.mkdir()
    go = lambda name: "/usr/local/go/bin/go" if name == "go" else None  # noqa: E731
    with pytest.raises(DevError, match="--weaviate-src DIR.*--weaviate-bin PATH.*--image"):
        weaviate_source.locate(settings(tmp_path), cwd=cwd, home=tmp_path, which=go)


def test_without_checkout_binary_or_go_weaviates_image_is_chosen_and_said_why(
        tmp_path, no_default_binary):
    """A laptop with Docker but no Go: Weaviate's image at the pinned version (pulled when
    missing), never a dead end."""
    cwd = tmp_path / "empty"
    cwd.mkdir()
    s = settings(tmp_path)
    found = weaviate_source.locate(s, cwd=cwd, home=tmp_path, which=lambda _: None)
    assert (found.kind, found.image) == ("image", s.weaviate_image)
    assert s.weaviate_image.endswith(f":{s.weaviate_version}")
    assert found.why == ("no Weaviate checkout, binary or Go toolchain here: Weaviate's image, "
                         "pulled when missing")


def test_bad_explicit_sources_are_refused(tmp_path):
    with pytest.raises(UsageError, match="not a Weaviate checkout"):
        weaviate_source.locate(settings(tmp_path), src=str(tmp_path))
    with pytest.raises(UsageError, match="not an executable"):
        weaviate_source.locate(settings(tmp_path), binary=str(tmp_path / "missing"))


def test_ldflags_match_the_original_build_info(tmp_path):
    answers = {("rev-parse", "--abbrev-ref", "HEAD"): "main", ("rev-parse", "--short", "HEAD"):
               "abc1234"}
    flags = weaviate_source.build_ldflags(
        tmp_path, git=lambda args: answers[tuple(args)],
        now=datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc), user="ann", host="box")
    p = "github.com/weaviate/weaviate/usecases/build"
    assert flags == (f"-X {p}.Branch=main -X {p}.Revision=abc1234 -X {p}.BuildUser=ann@box "
                     f"-X {p}.BuildDate=2026-01-02T03:04:05Z")


def test_commands_for_each_source(tmp_path):
    catalog = ProfileCatalog.load()
    root = make_checkout(tmp_path / "weaviate")
    plan = catalog.resolve("local-reranker-transformers", data_root=tmp_path / "state",
                           checkout=root)
    args = list(plan.server_args)

    src = weaviate_source.WeaviateSource("source", root)
    built = tmp_path / "cache" / "weaviate-server"
    cmd = weaviate_source.command(src, plan, built=built)
    assert cmd.argv == (str(built), *args)  # compiled first, run in the tree
    assert cmd.cwd == root and cmd.env == plan.env
    with pytest.raises(DevError, match="must be compiled before it runs"):
        weaviate_source.command(src, plan)
    debugger = Debugger(Path("/c/dlv"), 2399)
    cmd = weaviate_source.command(src, plan, built=built, debugger=debugger)
    assert cmd.argv == ("/c/dlv", "exec", str(built), "--headless", "--listen", "127.0.0.1:2399",
                        "--accept-multiclient", "--continue", "--api-version", "2", "--", *args)
    assert cmd.cwd == root and cmd.env == plan.env  # the profile's environment, unchanged

    binary = weaviate_source.WeaviateSource("binary", Path("/opt/weaviate-server"))
    cmd = weaviate_source.command(binary, plan)
    assert cmd.argv == ("/opt/weaviate-server", *args)

    image = weaviate_source.WeaviateSource("image", image="wv:1")
    cmd = weaviate_source.command(image, plan, uid_gid=(1000, 1000))
    argv = list(cmd.argv)
    assert argv[:9] == ["docker", "run", "--rm", "--name",
                        "weaviate-dev-run-local-reranker-transformers", "--network", "host",
                        "--user", "1000:1000"]
    assert f"{plan.state_dir}:{plan.state_dir}" in argv
    assert "RERANKER_INFERENCE_API=http://localhost:8009" in argv
    assert argv[argv.index("wv:1") + 1:] == args

    debug = catalog.resolve("debug", data_root=tmp_path / "state", checkout=root)
    cmd = weaviate_source.command(src, debug)
    assert cmd.argv[:4] == ("dlv", "debug", "./cmd/weaviate-server", "--")
    assert weaviate_source.command(binary, debug).argv[:4] == (
        "dlv", "exec", "/opt/weaviate-server", "--")
    with pytest.raises(UsageError, match="dlv"):
        weaviate_source.command(image, debug)


def test_build_info_of_a_tree_without_its_own_git_is_unknown(tmp_path):
    """A module copy has no .git; placed inside another repository it must not take that
    repository's branch and revision."""
    import subprocess

    outer = tmp_path / "outer"
    outer.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "trunk", str(outer)], check=True)
    subprocess.run(["git", "-C", str(outer), "-c", "user.email=a@b", "-c", "user.name=a",
                    "commit", "-q", "--allow-empty", "-m", "x"], check=True)
    copy = make_checkout(outer / "weaviate-copy")
    for tree, branch in ((copy, "unknown"), (outer, "trunk")):
        flags = weaviate_source.build_ldflags(tree)
        assert f"usecases/build.Branch={branch} " in flags, flags
    lone = make_checkout(tmp_path / "lone")
    assert "Revision=unknown" in weaviate_source.build_ldflags(lone)
