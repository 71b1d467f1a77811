"""State cleanup never leaves the workspace and never follows a symlink out of it."""

import pytest

from weaviate_dev.core import state
from weaviate_dev.core.errors import DevError, UsageError
from weaviate_dev.services.catalog import load_catalog

PATTERNS = load_catalog().state_paths


@pytest.fixture
def layout(tmp_path):
    """A workspace with state, non-state, and a symlink pointing outside it."""
    workspace = tmp_path / "ws"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("keep me")
    workspace.mkdir()
    for name in ("data", "data-weaviate-0", "data-weaviate-4", "data-weaviate-12",
                 "backups-s3", "backups-weaviate-1", "src"):
        (workspace / name).mkdir()
        (workspace / name / "file").write_text("x")
    (workspace / "schema_state.json").write_text("{}")
    (workspace / "connector_state.json").write_text("{}")
    (workspace / "README.md").write_text("not state")
    (workspace / "data-weaviate-x").mkdir()  # not a node number
    (workspace / "backups-azure").symlink_to(outside, target_is_directory=True)
    (workspace / "data" / "link-out").symlink_to(outside, target_is_directory=True)
    return workspace, outside


def test_finds_the_originals_list_and_what_it_forgot(layout):
    workspace, _ = layout
    found = {p.name for p in state.find_state(workspace, PATTERNS)}
    assert found == {"data", "data-weaviate-0", "data-weaviate-4", "data-weaviate-12",
                     "backups-s3", "backups-weaviate-1", "backups-azure",
                     "schema_state.json", "connector_state.json"}


def test_symlink_out_is_removed_as_link_and_target_untouched(layout):
    workspace, outside = layout
    removed = state.remove_state(workspace, state.find_state(workspace, PATTERNS))
    assert workspace / "backups-azure" in removed
    assert not (workspace / "backups-azure").exists()
    assert not (workspace / "backups-azure").is_symlink()
    assert (outside / "precious.txt").read_text() == "keep me"  # through both symlinks
    assert sorted(p.name for p in workspace.iterdir()) == ["README.md", "data-weaviate-x", "src"]


@pytest.mark.parametrize("pattern", ["../data", "data/../../x", "/etc", "a/..", "", "..\\x"])
def test_dotdot_and_absolute_patterns_are_rejected(layout, pattern):
    workspace, _ = layout
    with pytest.raises(UsageError):
        state.find_state(workspace, [pattern])


def test_match_below_a_symlinked_directory_is_skipped(layout):
    workspace, outside = layout
    (outside / "data").mkdir()
    (workspace / "linked").symlink_to(outside, target_is_directory=True)
    assert state.find_state(workspace, ["linked/data"]) == []
    assert (outside / "data").is_dir()


def test_remove_refuses_paths_outside_the_workspace(layout, tmp_path):
    workspace, outside = layout
    with pytest.raises(DevError, match="refusing"):
        state.remove_state(workspace, [outside])
    with pytest.raises(DevError, match="refusing"):
        state.remove_state(workspace, [workspace / "backups-azure" / "precious.txt"])
    with pytest.raises(UsageError):
        state.remove_state(workspace, ["../outside"])
    assert (outside / "precious.txt").exists()


def test_root_is_never_a_workspace():
    with pytest.raises(UsageError, match="root"):
        state.resolve_workspace("/")
