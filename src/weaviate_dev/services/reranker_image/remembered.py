"""Remember which commit each revision of a model pointed to when the hub last answered, so
that a model used once works without the hub (on a train, behind a firewall, in an outage,
with HF_HUB_OFFLINE=1).

Each time the hub says which commit a revision points to, `remember` saves the commit, the
time and the files of that commit in `<cache>/hub-commits.json`. When the hub cannot be
reached, `recall` returns the newest commit known for (model, revision), from that record or
from the Hugging Face cache's own refs (`refs/main` of a model another tool downloaded). Only
when neither knows one does it look at the reranker images on this machine, whose labels name
their model and commit but not the revision they were built for; the newest such image's
commit is then used.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from weaviate_dev.core import locks
from weaviate_dev.core.errors import DevError
from weaviate_dev.core.settings import Settings
from weaviate_dev.services.docker import local_images
from weaviate_dev.services.reranker_image.hub import COMMIT
from weaviate_dev.services.reranker_image.labels import LABEL

RECORD = "hub-commits.json"


@dataclass(frozen=True)
class Remembered:
    """A commit known for a model's revision, and how it is known."""

    commit: str
    at: float  # when it was learnt (seconds since the epoch)
    source: str  # for people: "the commit main pointed to when the hub was last reached, ..."
    files: tuple[str, ...] = ()  # every file of the commit; () when not known here


def remember(settings: Settings, name: str, revision: str | None, commit: str,
             files: list[str]) -> None:
    """Save that `revision` of `name` points to `commit`, whose files are `files` (with
    revision None, save only the files of the commit)."""
    with locks.held(settings.cache_dir / "locks" / f"{RECORD}.lock"):
        record = _read(settings)
        model = record[name] = _model(record, name)
        if revision is not None:
            model["revisions"][revision] = {"commit": commit, "at": time.time()}
        model["commits"][commit] = sorted(files)
        _write(settings, record)


def files_of(settings: Settings, name: str, commit: str) -> tuple[str, ...]:
    """Return every file of `commit` of `name` when a hub answer listed them; () otherwise."""
    files = _model(_read(settings), name)["commits"].get(commit)
    return tuple(files) if isinstance(files, list) else ()


def recall(settings: Settings, name: str, revision: str) -> Remembered | None:
    """Return the newest commit known here for `revision` of `name`; None when none is."""
    found = [*_from_record(settings, name, revision), *_from_hub_cache(settings, name, revision)]
    if not found:
        found = _from_images(name)
    found = [r for r in found if COMMIT.fullmatch(r.commit)]  # a path only when a commit id
    if not found:
        return None
    newest = max(found, key=lambda r: r.at)
    return Remembered(newest.commit, newest.at, newest.source,
                      newest.files or files_of(settings, name, newest.commit))


def _from_record(settings: Settings, name: str, revision: str) -> list[Remembered]:
    """Return the commit saved for `revision` of `name` in our record, if any."""
    entry = _model(_read(settings), name)["revisions"].get(revision)
    if not isinstance(entry, dict) or not isinstance(entry.get("commit"), str):
        return []
    at = float(entry.get("at") or 0)
    return [Remembered(entry["commit"], at, f"the commit {revision} pointed to when the hub "
                       f"was last reached, at {_when(at)}")]


def _from_hub_cache(settings: Settings, name: str, revision: str) -> list[Remembered]:
    """Return the commit that `revision` of `name` points to in the Hugging Face cache, if
    any."""
    import huggingface_hub

    try:
        repos = huggingface_hub.scan_cache_dir(settings.hf_hub_cache).repos
    except (huggingface_hub.CacheNotFound, OSError, ValueError):
        return []
    for repo in repos:
        if repo.repo_type == "model" and repo.repo_id == name and revision in repo.refs:
            found = repo.refs[revision]
            return [Remembered(found.commit_hash, found.last_modified,
                               f"the commit {revision} points to in the Hugging Face cache "
                               f"{settings.hf_hub_cache}")]
    return []


def _from_images(name: str) -> list[Remembered]:
    """Return the commits of `name` that the reranker images on this machine were built with."""
    try:
        images = local_images.labelled(LABEL + "model_key")
    except DevError:  # no engine
        return []
    found = []
    for labels, created in images:
        model, _, commit = labels.get(LABEL + "model_key", "").rpartition("@")
        if model == name:
            found.append(Remembered(commit, created, "the newest commit of it in a reranker "
                                    f"image on this machine (built {_when(created)})"))
    return found


def _when(at: float) -> str:
    """Return a time for people: `YYYY-MM-DD HH:MM`, local time."""
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(at))


def _read(settings: Settings) -> dict:
    """Return the record ({} when it is missing or damaged)."""
    try:
        record = json.loads((settings.cache_dir / RECORD).read_text())
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def _model(record: dict, name: str) -> dict:
    """Return the record's entry for one model: {"revisions": {...}, "commits": {...}} (a
    damaged entry reads as empty)."""
    model = record.get(name)
    model = model if isinstance(model, dict) else {}
    return {key: model[key] if isinstance(model.get(key), dict) else {}
            for key in ("revisions", "commits")}


def _write(settings: Settings, record: dict) -> None:
    """Replace the record on disk in one step; a read-only cache is ignored."""
    path = settings.cache_dir / RECORD
    try:
        fd, scratch = tempfile.mkstemp(prefix=f".{RECORD}-", dir=path.parent)
        with os.fdopen(fd, "w") as handle:
            json.dump(record, handle, indent=1, sort_keys=True)
        os.replace(scratch, path)
    except OSError:
        pass  # a read-only cache only costs the offline fallback
