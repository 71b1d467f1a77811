"""run --watch: which changes rebuild the server, and how they are named."""

from __future__ import annotations

from pathlib import Path

from watchfiles import Change

from weaviate_dev.weaviate.watch import GoSources, describe


def test_only_the_servers_go_sources_rebuild(tmp_path):
    data = tmp_path / "data"
    wanted = GoSources(ignore_paths=[data])
    assert wanted(Change.modified, str(tmp_path / "modules" / "x" / "client.go"))
    assert wanted(Change.added, str(tmp_path / "new.go"))
    for path in ["modules/x/client_test.go", "vendor/github.com/a/b.go", "x/testdata/t.go",
                 ".git/hooks/a.go", "README.md", "modules/x/client.go.swp", "data/shard/x.go"]:
        assert not wanted(Change.modified, str(tmp_path / path)), path


def test_changes_are_named_relative_to_the_tree_a_few_at_a_time():
    root = Path("/src")
    changes = {(Change.modified, f"/src/pkg/f{i}.go") for i in range(5)}
    assert describe(changes, root) == "pkg/f0.go, pkg/f1.go, pkg/f2.go (+2 more)"
    assert describe({(Change.deleted, "/src/a.go")}, root) == "a.go"
