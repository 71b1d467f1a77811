"""The labels on a reranker image that say what it holds.

Every reranker image we build carries its `ImageSpec` as labels: the model (a directory's
files by digest, or a hub model at its commit), the digest of the reranker's part of the build
context (Dockerfile, locked requirements, source), the engine, the platform and the base image,
and one fingerprint over them. Comparing the wanted spec with an image's labels tells whether
the image must be rebuilt, and why.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

LABEL = "weaviate-dev.reranker."
FIELDS = ("model", "model_key", "engine", "platform", "source", "base")


@dataclass(frozen=True)
class ImageSpec:
    """What one reranker image holds, as its labels say it."""

    model: str  # for people: "org/name@<commit>", "directory D (sha256 ...)"
    model_key: str  # what identifies the model's content
    engine: str
    platform: str
    source: str  # sha256 of the reranker part of the build context
    base: str  # the base image's name

    @property
    def fingerprint(self) -> str:
        identity = {name: getattr(self, name) for name in FIELDS if name != "model"}
        return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()

    def labels(self) -> dict[str, str]:
        labels = {LABEL + name: getattr(self, name) for name in FIELDS}
        labels[LABEL + "fingerprint"] = self.fingerprint
        return labels

    @classmethod
    def from_labels(cls, labels: dict[str, str] | None) -> ImageSpec | None:
        labels = labels or {}
        if not all(LABEL + name in labels for name in FIELDS):
            return None
        return cls(**{name: labels[LABEL + name] for name in FIELDS})

    def summary(self) -> str:
        return f"model {self.model}, engine {self.engine}, {self.platform}"

    def changes_from(self, old: ImageSpec) -> list[str]:
        """What differs from `old`, in words ("model X -> Y", "the reranker's source")."""
        changes = []
        if old.model_key != self.model_key:
            changes.append(f"model {old.model} -> {self.model}")
        if old.source != self.source:
            changes.append("the reranker's source (reranker/: Dockerfile, requirements, src)")
        for name in ("engine", "platform", "base"):
            if getattr(old, name) != getattr(self, name):
                changes.append(f"{name} {getattr(old, name)} -> {getattr(self, name)}")
        return changes
