"""run_data.py: which data and backups directories under the data root are run's to delete."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from weaviate_dev.core.errors import DevError
from weaviate_dev.weaviate import groups, marker, run_data, running
from weaviate_dev.weaviate.profiles import ProfileCatalog


def make(root: Path, *relatives: str) -> None:
    for relative in relatives:
        (root / relative).mkdir(parents=True)


def found(root: Path) -> tuple[list[str], list[str]]:
    result = run_data.find(root)
    return ([p.relative_to(root).as_posix() for p in result.ours],
            [p.relative_to(root).as_posix() for p in result.others])


def test_the_exact_layout_of_a_profile_or_node_is_runs(tmp_path):
    make(tmp_path, "local-development-cluster/weaviate-0/data",  # no such cluster
         "development-cluster/weaviate-0/data", "development-cluster/weaviate-12/backups",
         "development-cluster/weaviate-01/data", "development-cluster/node-1/data",
         "s3-cluster/weaviate-0/backups",  # its nodes keep no filesystem backups
         "local-single-node/data", "local-single-node/backups",
         "local-openai/data", "local-openai/backups",  # no filesystem backups either
         "local-development/data",  # a cluster profile: its data lives in development-cluster
         "myproject/data", "notes/backups")
    ours, others = found(tmp_path)
    assert ours == ["development-cluster/weaviate-0/data",
                    "development-cluster/weaviate-12/backups",
                    "local-openai/data", "local-single-node/backups", "local-single-node/data"]
    assert others == ["development-cluster/weaviate-01/data", "local-development/data",
                      "local-development-cluster/weaviate-0/data",
                      "local-openai/backups", "myproject/data", "notes/backups",
                      "s3-cluster/weaviate-0/backups"]  # node-1/data: not even looked at


def test_a_mark_counts_where_run_made_the_directory(tmp_path):
    marker.make(tmp_path / "custom" / "data", tmp_path, "local-development")
    copy = tmp_path / "kept" / "data"
    copy.mkdir(parents=True)
    (copy / marker.NAME).write_text((tmp_path / "custom" / "data" / marker.NAME).read_text())
    (tmp_path / "broken" / "data").mkdir(parents=True)
    (tmp_path / "broken" / "data" / marker.NAME).write_text("{not json")
    assert found(tmp_path) == (["custom/data"], ["broken/data", "kept/data"])


def test_a_directory_that_exists_is_not_marked(tmp_path):
    (tmp_path / "p" / "data").mkdir(parents=True)
    marker.make(tmp_path / "p" / "data", tmp_path, "local-development")
    assert not (tmp_path / "p" / "data" / marker.NAME).exists()
    marker.make(tmp_path / "q" / "data", tmp_path, "local-development")
    assert marker.made_here(tmp_path / "q" / "data", tmp_path)


def test_a_symlink_or_a_file_is_never_runs(tmp_path):
    outside = tmp_path / "outside"
    marker.make(outside / "data", tmp_path / "root", "local-development")
    root = tmp_path / "root"
    root.mkdir()
    (root / "local-single-node").mkdir()
    (root / "local-single-node" / "data").symlink_to(outside / "data")
    (root / "local-openai").mkdir()
    (root / "local-openai" / "data").write_text("a file")
    assert found(root) == ([], ["local-openai/data", "local-single-node/data"])


def test_the_layout_follows_the_profile_table():
    layout = run_data.Layout(ProfileCatalog.load())
    assert layout.is_data_or_backups(Path("local-reranker-transformers/data"))
    assert layout.is_data_or_backups(Path("reranker-cluster/weaviate-7/data"))
    assert not layout.is_data_or_backups(Path("reranker-cluster/weaviate-7/backups"))
    assert not layout.is_data_or_backups(Path("local-reranker-transformers/weaviate.log"))


@pytest.mark.parametrize("root", ["/", "~", "~/..", "project", "project/..", "checkout",
                                  "checkout/.."])
def test_a_root_holding_the_home_the_project_or_the_checkout_is_refused(tmp_path, monkeypatch,
                                                                        root):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "code" / "app" / ".git").mkdir(parents=True)
    (tmp_path / "code" / "app" / "sub").mkdir()
    path = {"/": Path("/"), "~": tmp_path / "home", "~/..": tmp_path,
            "project": tmp_path / "tool", "project/..": tmp_path / "tool" / "..",
            "checkout": tmp_path / "code" / "app", "checkout/..": tmp_path / "code"}[root]
    with pytest.raises(DevError, match=f"refusing to delete the data of `run` under {path}"):
        run_data.refuse_unsafe_root(path, [tmp_path / "tool"], cwd=tmp_path / "code" / "app"
                                    / "sub")


def test_a_root_of_its_own_is_taken(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "code" / "app" / ".git").mkdir(parents=True)
    for root in (tmp_path / "home" / ".local" / "share" / "weaviate-dev",
                 tmp_path / "code" / "app" / "data", tmp_path / "elsewhere"):
        run_data.refuse_unsafe_root(root, [tmp_path / "tool"], cwd=tmp_path / "code" / "app")


def test_a_run_waiting_for_its_weaviate_counts_as_running(tmp_path):
    """`run --watch` between two builds: its Weaviate is gone, the run itself is not."""
    me = groups.Member.current()
    gone = groups.Member(running.identity_of(999_999_999, 1.0, None))
    running.RunFile(tmp_path / "local-development").add(running.Record.of(
        "local-development", gone, owner=me, http=8080, grpc=50051))
    with pytest.raises(DevError, match=f"weaviate-dev run for local-development \\(pid "
                                       f"{os.getpid()}\\) is running"):
        run_data.refuse_if_running(tmp_path)
