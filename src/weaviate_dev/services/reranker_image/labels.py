"""Label each reranker image with what it was built from, and compare those labels with what
is configured.

Every reranker image we build carries its `ImageSpec` as labels: the model (a directory's
files by digest, or a hub model at its commit), the digest of the reranker's part of the build
context (Dockerfile, locked requirements, source), the engine, the platform and the base
image's id (so that a base image pulled or built again rebuilds the image), and one fingerprint
over them. Comparing the wanted spec with an image's labels tells whether the image must be
rebuilt, and why.

The Dockerfile labels each of its stages with `STAGE_LABEL` (a constant per stage, so that the
layer cache still applies); a build's leftover stage images are found by it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

LABEL = "weaviate-dev.reranker."
FIELDS = ("model", "model_key", "engine", "platform", "source", "base")
DESCRIPTIVE = ("model", "base_name")  # for people: outside the fingerprint
STAGE_LABEL = LABEL + "stage"  # the Dockerfile's stage name, on every image of that stage


@dataclass(frozen=True)
class ImageSpec:
    """What one reranker image was built from, as its labels record it."""

    model: str  # for people: "org/name@<commit>", "directory D (sha256 ...)"
    model_key: str  # what identifies the model's content
    engine: str
    platform: str
    source: str  # sha256 of the reranker part of the build context
    base: str  # the base image's id ("sha256:..."); "" when it is not present yet
    base_name: str = ""  # the base image's name

    @property
    def fingerprint(self) -> str:
        """A digest of the fields that identify the image (the descriptive ones left out)."""
        identity = {name: getattr(self, name) for name in FIELDS if name not in DESCRIPTIVE}
        return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()

    def labels(self) -> dict[str, str]:
        """Return the image's labels, the fingerprint included."""
        labels = {LABEL + name: getattr(self, name) for name in (*FIELDS, "base_name")}
        labels[LABEL + "fingerprint"] = self.fingerprint
        return labels

    @classmethod
    def from_labels(cls, labels: dict[str, str] | None) -> ImageSpec | None:
        """Return the spec that an image's labels record; None when the image lacks our
        labels."""
        labels = labels or {}
        if not all(LABEL + name in labels for name in FIELDS):
            return None
        return cls(**{name: labels[LABEL + name] for name in FIELDS},
                   base_name=labels.get(LABEL + "base_name", ""))

    def summary(self) -> str:
        """Return the model, engine and platform for a printed line."""
        return f"model {self.model}, engine {self.engine}, {self.platform}"

    def changes_from(self, old: ImageSpec) -> list[str]:
        """Return what differs from `old`, in words ("model X -> Y", "the reranker's
        source")."""
        changes = []
        if old.model_key != self.model_key:
            changes.append(f"model {old.model} -> {self.model}")
        if old.source != self.source:
            changes.append("the reranker's source (reranker/: Dockerfile, requirements, src)")
        for name in ("engine", "platform"):
            if getattr(old, name) != getattr(self, name):
                changes.append(f"{name} {getattr(old, name)} -> {getattr(self, name)}")
        if old.base != self.base:
            was = " ".join(filter(None, (old.base_name, short(old.base))))
            changes.append(f"base image changed ({was} -> {self.base_name} {short(self.base)})")
        return changes


def short(image_id: str) -> str:
    """Return an image id as `docker images` shows it (12 hex digits); return a name
    unchanged."""
    return image_id.removeprefix("sha256:")[:12] if image_id.startswith("sha256:") else image_id
