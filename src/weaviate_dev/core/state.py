"""Find and delete local state in the workspace (data/, data-weaviate-N/, backups-*/, ...).

Safety rules, because this deletes directories:
- patterns are relative to the workspace and may not contain ".." (UsageError);
- only entries whose path lies inside the workspace are touched, and no symlink is followed
  on the way there: a symlink that matches is removed as a link, its target stays untouched;
  a match below a symlinked directory is skipped;
- directories are removed with shutil.rmtree, which removes symlinks inside them as links.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from weaviate_dev.core.errors import DevError, UsageError


def check_relative(pattern: str) -> str:
    """Return `pattern` unchanged; raise UsageError when it is absolute or contains ".."."""
    pure = PurePosixPath(pattern)
    if not pattern or pure.is_absolute() or ".." in pure.parts or "\\" in pattern:
        raise UsageError(f"state path {pattern!r} must be relative to the workspace "
                         "and must not contain '..'")
    return pattern


def resolve_workspace(path: str | Path) -> Path:
    """Return the workspace as an absolute real path. Raises UsageError when it is not an
    existing directory, or is the filesystem root."""
    workspace = Path(path).expanduser().resolve()
    if not workspace.is_dir():
        raise UsageError(f"workspace {workspace} is not a directory")
    if workspace == Path(workspace.anchor):
        raise UsageError("refusing to use the filesystem root as the workspace")
    return workspace


def _inside_without_symlinks(workspace: Path, candidate: Path) -> bool:
    """True when candidate is below workspace and no directory between them is a symlink."""
    try:
        relative = candidate.relative_to(workspace)
    except ValueError:
        return False
    if not relative.parts or ".." in relative.parts:
        return False
    current = workspace
    for part in relative.parts[:-1]:
        current = current / part
        if current.is_symlink() or not current.is_dir():
            return False
    return True


def find_state(workspace: Path, patterns: Iterable[str]) -> list[Path]:
    """Return the existing paths in `workspace` that match `patterns`, sorted and without
    duplicates."""
    found: set[Path] = set()
    for pattern in patterns:
        check_relative(pattern)
        for match in workspace.glob(pattern):
            # glob may yield paths through symlinked directories: keep only safe ones.
            candidate = workspace / match.relative_to(workspace)
            if _inside_without_symlinks(workspace, candidate):
                found.add(candidate)
    return sorted(found)


def remove_state(workspace: Path, paths: Iterable[Path]) -> list[Path]:
    """Delete each path, checking again just before that it is safe; return the paths
    deleted."""
    removed = []
    for path in paths:
        path = Path(path)
        if not path.is_absolute():
            check_relative(str(path))
            path = workspace / path
        if not _inside_without_symlinks(workspace, path):
            raise DevError(f"refusing to delete {path}: not inside the workspace {workspace} "
                           "(or reached through a symlink)")
        try:
            if path.is_symlink() or not path.is_dir():
                if path.is_symlink() or path.exists():
                    path.unlink()
                    removed.append(path)
            else:
                shutil.rmtree(path)
                removed.append(path)
        except PermissionError as exc:
            raise DevError(f"cannot delete {path}: {exc.strerror} ({exc.filename}); files "
                           "written by containers may belong to root: remove them with sudo, "
                           "or rerun with --keep-data") from exc
        except OSError as exc:
            raise DevError(f"cannot delete {path}: {exc}") from exc
    return removed


def display(workspace: Path, path: Path) -> str:
    """Return `path` for display: relative to the workspace, with a slash for a directory
    and a note for a symlink."""
    text = os.path.relpath(path, workspace)
    if path.is_symlink():
        return f"{text} (symlink: only the link is removed)"
    return text + ("/" if path.is_dir() else "")
