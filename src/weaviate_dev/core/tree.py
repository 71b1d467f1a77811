"""Find the project's own files: compose/ (every service) and reranker/ (the image we build).

In a checkout (and an editable install) they sit beside src/. A wheel carries copies of both
under weaviate_dev/assets/ (pyproject.toml: force-include), so that a plain `pip install` of
the toolkit finds them too.
"""

from __future__ import annotations

from pathlib import Path

ASSETS = Path(__file__).resolve().parents[1] / "assets"  # weaviate_dev/assets


def project_root() -> Path:
    """Return the directory that contains compose/ and reranker/: the packaged copy, else
    the checkout."""
    if (ASSETS / "compose").is_dir():
        return ASSETS
    for parent in Path(__file__).resolve().parents:
        if (parent / "compose").is_dir() and (parent / "reranker").is_dir():
            return parent
    return Path.cwd()


def compose_file(root: Path | None = None) -> Path:
    """Return the path of our compose file, which defines every service."""
    return (root or project_root()) / "compose" / "docker-compose.yml"
