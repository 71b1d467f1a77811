"""Our reranker image: what it must hold, whether the image of that name holds it, a build when
it does not — and no disk left behind by the build.

An image carries its `ImageSpec` as labels: the model (a directory's files by digest, or a hub
model at its commit), the digest of the reranker's build context (Dockerfile, locked
requirements, source), the engine, the platform and the base image, and one fingerprint over
them. `plan` compares the wanted spec with the present image's labels before anything acts;
`ImagePlan.apply` builds only when they differ (Docker's layer cache keeps a source-only
rebuild to seconds), says why, removes the dangling stages of its own build (a torch export
stage is 5+ GB) and the image it replaced (`remove_replaced`, once no container runs it),
saying how much that freed.

An image name the user gave (WEAVIATE_DEV_RERANKER_IMAGE) is used as given when present,
with a line saying what it holds; it is built only when missing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path

from weaviate_dev.core.progress import say
from weaviate_dev.core.settings import Settings
from weaviate_dev.services import (docker_engine, images, model_staging, reranker_context,
                                   reranker_model)
from weaviate_dev.services.reranker_model import ModelSource

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


@dataclass
class ImagePlan:
    """What `apply` will do for one tag, decided before anything acts."""

    settings: Settings
    tag: str
    action: str  # "use" (as given or current) or "build"
    reason: str
    model: ModelSource | None = None
    wanted: ImageSpec | None = None

    def describe(self) -> str:
        return f"reranker image: {self.tag}: {self.reason}"

    replaced: str | None = None  # the image a build took the tag from, until removed

    def apply(self, *, keep_replaced: bool = False) -> str:
        """Build when needed (its leftover stages removed at once); the tag. The image the
        build replaced is removed too, unless `keep_replaced` (a container may still run it:
        `remove_replaced` after that container is gone)."""
        say(self.describe())
        if self.action == "build":
            self.replaced = build(self.settings, self.tag, self.model, self.wanted)
            if not keep_replaced:
                self.remove_replaced()
        return self.tag

    def remove_replaced(self) -> None:
        if self.replaced:
            freed = docker_engine.remove_unused([self.replaced])
            if freed:
                say(f"removed the image {self.tag} replaced: {freed / 1e6:.0f} MB freed")
            self.replaced = None


def wanted_spec(settings: Settings, model: ModelSource) -> ImageSpec:
    return ImageSpec(model=model.describe(), model_key=model.key,
                     engine=settings.reranker_engine,
                     platform=settings.platform or docker_engine.native_platform(),
                     source=reranker_context.source_digest(settings),
                     base=settings.base_image)


def plan(settings: Settings, tag: str | None = None, model_dir: Path | None = None,
         model: ModelSource | None = None) -> ImagePlan:
    """Compare the wanted image with the one named `tag` (default: settings.reranker_image).
    The model is resolved here (unless given): a model that cannot be had fails before
    anything acts."""
    tag = tag or settings.reranker_image
    if model_dir is not None:
        settings = replace(settings, model_dir=Path(model_dir))
    labels = docker_engine.image_labels(tag)
    if settings.reranker_image_given and tag == settings.reranker_image and labels is not None:
        present = ImageSpec.from_labels(labels)
        holds = present.summary() if present else "no weaviate-dev labels (not built by us)"
        return ImagePlan(settings, tag, "use",
                         f"used as given (WEAVIATE_DEV_RERANKER_IMAGE): it holds {holds}")
    model = model or reranker_model.resolve(settings)
    wanted = wanted_spec(settings, model)
    present = ImageSpec.from_labels(labels)
    if labels is None:
        reason = f"not found: building it with {wanted.summary()}"
    elif present is None:
        reason = f"has no weaviate-dev labels: rebuilding it with {wanted.summary()}"
    elif present.fingerprint == wanted.fingerprint:
        return ImagePlan(settings, tag, "use", f"current: {present.summary()}", model, wanted)
    else:
        reason = "rebuilding: " + "; ".join(wanted.changes_from(present) or ["labels differ"])
    return ImagePlan(settings, tag, "build", reason, model, wanted)


def ensure(settings: Settings, *, tag: str | None = None,
           model_dir: Path | None = None) -> str:
    """The image `tag` holding what settings (and model_dir) configure: built when missing or
    different, used as it is when current."""
    return plan(settings, tag, model_dir).apply()


def build(settings: Settings, tag: str, model: ModelSource, spec: ImageSpec) -> str | None:
    """reranker/ + the model's files, streamed from a tar file on disk; labelled with `spec`;
    afterwards this build's dangling stages are removed. The id of the image that had the tag
    before (None: there was none), for the caller to remove once nothing runs it."""
    replaced = docker_engine.image_id(tag)
    base = images.ensure_base_image(settings)
    staged = model_staging.files(settings, model)
    buildargs = {"ENGINE": settings.reranker_engine, "MODEL_DESCRIPTION": model.describe(),
                 **download_sources(settings), "BASE_IMAGE": base}
    with reranker_context.written(settings, staged) as (context, args):
        buildargs.update(args)
        say(f"building {tag}: context {context.stat().st_size / 1e6:.0f} MB from disk "
            f"({json.dumps({k: v for k, v in buildargs.items() if k != 'MODEL_DESCRIPTION'})})")
        platform = images.foreign_platform(settings)
        with context.open("rb") as stream:
            if platform:
                result = docker_engine.build_for(stream, tag=tag, buildargs=buildargs,
                                                 platform=platform, labels=spec.labels())
            else:
                result = docker_engine.build(stream, tag=tag, buildargs=buildargs,
                                             labels=spec.labels())
    freed = docker_engine.remove_unused(result.leftovers)
    if freed:
        say(f"removed this build's dangling stages: {freed / 1e6:.0f} MB freed")
    return replaced if replaced != result.image_id else None


# The stage of reranker/Dockerfile holding an engine's locked dependencies (the big layers).
DEPENDENCY_STAGE = "builder"


def prebuild_dependencies(settings: Settings, engines: list[str] | None = None) -> str:
    """The dependency layers of each engine's image (default: one engine per extra), built
    ahead into Docker's layer cache, so that a later image of any model for these engines
    builds in seconds. Nothing is tagged; `docker image prune` frees them."""
    table = settings.reranker_engines
    if engines is None:  # one engine per extra: openvino, onnx, torch
        by_extra: dict[str, str] = {}
        for name in table.names:
            by_extra.setdefault(table.extras[name], name)
        engines = list(by_extra.values())
    base = images.ensure_base_image(settings)
    with reranker_context.written(settings) as (context, args):
        for engine in engines:
            say(f"dependency layers of ENGINE={engine} (the image's stage "
                f"{DEPENDENCY_STAGE!r})")
            with context.open("rb") as stream:
                docker_engine.build(stream, tag=f"{engine} dependencies",
                                    target=DEPENDENCY_STAGE, tag_result=False,
                                    buildargs={**args, "ENGINE": engine, "BASE_IMAGE": base,
                                               **download_sources(settings)})
    return ", ".join(engines)


def download_sources(settings: Settings) -> dict[str, str]:
    """Package indexes for the build (the model never downloads inside it here)."""
    return {k: v for k, v in settings.download_sources().items() if k != "HF_ENDPOINT"}
