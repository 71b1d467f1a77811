"""Compute the digests of a model's files, and remember them by each file's stat so that a
second check costs nothing.

A reranker image is labelled with the digest of the model files it bakes in; `restart` and
`dev` compare it on every run. Hashing a bge-reranker-v2-m3-sized model (2.3 GB) takes
seconds, so each file's sha256 is stored in `<cache>/model-digests.json` under its real
path, size, mtime and inode (as git's index and Go's build cache recognise an unchanged
file); a file that changed in any of them is hashed again. The digest of a set of files is
computed by the reranker's own code (`download.combine`, over names and file digests), so the
toolkit and the image build agree.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from weaviate_dev.services.reranker_image import shared_code

CACHE_FILE = "model-digests.json"


class DigestCache:
    """File digests, cached by stat. `save()` stores the cache on disk (atomically)."""

    def __init__(self, cache_dir: Path, project_root: Path) -> None:
        self.path = Path(cache_dir) / CACHE_FILE
        self.download = shared_code.module(project_root, "download")
        try:
            self.entries: dict[str, dict] = json.loads(self.path.read_text())
        except (OSError, ValueError):
            self.entries = {}
        self.hashed = 0  # bytes actually read by this instance (0 when everything was known)

    def file(self, path: Path) -> str:
        """Return the sha256 of the file at `path`, hashing it only when its stat changed."""
        real = os.path.realpath(path)
        stat = os.stat(real)
        key = [stat.st_size, stat.st_mtime_ns, stat.st_ino]
        known = self.entries.get(real)
        if not known or known.get("stat") != key:
            known = {"stat": key, "sha256": self.download.file_digest(Path(real))}
            self.entries[real] = known
            self.hashed += stat.st_size
        return known["sha256"]

    def files(self, root: Path, names: list[str]) -> str:
        """Return the digest of the files `names` (relative to `root`), as
        `download.tree_digest` computes it."""
        return self.download.combine({name: self.file(Path(root) / name) for name in names})

    def save(self) -> None:
        """Write the cache file; a cache that cannot be written is skipped."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, scratch = tempfile.mkstemp(prefix=".digests-", dir=self.path.parent)
            with os.fdopen(fd, "w") as handle:
                json.dump(self.entries, handle)
            os.replace(scratch, self.path)
        except OSError:
            pass  # a read-only cache only costs hashing again next time


def directory_digest(root: Path, names: list[str], cache_dir: Path, project_root: Path) -> str:
    """Return the digest of the files `names` under `root`, using the stat-keyed cache."""
    cache = DigestCache(cache_dir, project_root)
    digest = cache.files(root, names)
    cache.save()
    return digest
