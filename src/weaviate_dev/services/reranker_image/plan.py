"""Decide, before anything acts, whether the reranker image must be built.

`plan` identifies the configured model, computes the wanted `ImageSpec` and compares it with
the labels of the image that has the tag. `ImagePlan.apply` then builds only when they differ
(Docker's layer cache keeps a source-only rebuild short), prints why, and removes the image it
replaced (`remove_replaced`, once no container runs it), printing how much disk that freed.
Two processes that would build the same tag take turns (a lock per tag): the second waits,
then uses the image the first built when it holds what it wants.

An image name the user gave (WEAVIATE_DEV_RERANKER_IMAGE) is used as it is when the image is
present, with a line that names the model it was built with; it is built only when missing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

from weaviate_dev.core.progress import say
from weaviate_dev.core.settings import Settings
from weaviate_dev.services import images
from weaviate_dev.services.docker import engine, local_images
from weaviate_dev.services.reranker_image import build as image_build
from weaviate_dev.services.reranker_image import context, model as image_model, staging
from weaviate_dev.services.reranker_image.labels import ImageSpec
from weaviate_dev.services.reranker_image.model import ModelSource


@dataclass
class ImagePlan:
    """What `apply` will do for one tag, decided before anything changes."""

    settings: Settings
    tag: str
    action: str  # "use" (as given or current) or "build"
    reason: str
    model: ModelSource | None = None
    wanted: ImageSpec | None = None

    def describe(self) -> str:
        """Return the line that says what happens to the image, and why."""
        return f"reranker image: {self.tag}: {self.reason}"

    replaced: str | None = None  # the image a build took the tag from, until removed

    def apply(self, *, keep_replaced: bool = False) -> str:
        """Build the image when needed (its leftover stages are removed at once) and return
        the tag. The image the build replaced is removed too, unless `keep_replaced` (a
        container may still run it; call `remove_replaced` once that container is gone)."""
        say(self.describe())
        if self.action == "build":
            tag_key = hashlib.sha256(self.tag.encode()).hexdigest()[:16]
            with staging.one_at_a_time(self.settings, f"image-{tag_key}",
                                       f"building {self.tag}"):
                if self._built_meanwhile():
                    return self.tag
                self.replaced = image_build.build(self.settings, self.tag, self.model,
                                                  self.wanted)
            if not keep_replaced:
                self.remove_replaced()
        return self.tag

    def _built_meanwhile(self) -> bool:
        """Whether the tag now holds the wanted image (another process built it while this
        one waited for the lock); says so when it does."""
        present = ImageSpec.from_labels(local_images.image_labels(self.tag))
        if present is None or present.fingerprint != self.wanted.fingerprint:
            return False
        say(f"reranker image: {self.tag}: built meanwhile by another process: "
            f"{present.summary()}")
        return True

    def remove_replaced(self) -> None:
        """Remove the image the build replaced, unless a container uses it, and print the disk
        freed."""
        if self.replaced:
            freed = local_images.remove_unused([self.replaced])
            if freed:
                say(f"removed the image that {self.tag} replaced: {freed / 1e6:.0f} MB freed")
            self.replaced = None


def wanted_spec(settings: Settings, model: ModelSource,
                present: ImageSpec | None = None) -> ImageSpec:
    """Return the spec that a build would label the image with now. The base image is named
    by its id; when the base is not present yet (it is pulled or built first), the present
    image's base is taken as unchanged, and the build labels the id it then uses."""
    base = images.present_base_image(settings)
    if base is None:
        base = (present.base_name, present.base) if present else (settings.base_image, "")
    return ImageSpec(model=model.describe(), model_key=model.key,
                     engine=settings.reranker_engine,
                     platform=settings.platform or engine.native_platform(),
                     source=context.source_digest(settings),
                     base=base[1], base_name=base[0])


def plan(settings: Settings, tag: str | None = None, model_dir: Path | None = None,
         model: ModelSource | None = None) -> ImagePlan:
    """Decide whether the image `tag` (default: settings.reranker_image) must be built, by
    comparing the wanted image with the present one, and return the plan. The model is
    identified here unless given, so a model that cannot be found fails before anything
    changes."""
    tag = tag or settings.reranker_image
    if model_dir is not None:
        settings = replace(settings, model_dir=Path(model_dir))
    labels = local_images.image_labels(tag)
    if settings.reranker_image_given and tag == settings.reranker_image and labels is not None:
        present = ImageSpec.from_labels(labels)
        built_with = (f"built with {present.summary()}" if present
                      else "no weaviate-dev labels (not built by us)")
        return ImagePlan(settings, tag, "use",
                         f"used as it is (WEAVIATE_DEV_RERANKER_IMAGE): {built_with}")
    model = model or image_model.resolve(settings)
    present = ImageSpec.from_labels(labels)
    wanted = wanted_spec(settings, model, present)
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
    """Return the image `tag` built from what settings (and model_dir) configure: built when
    missing or different, used as it is when current."""
    return plan(settings, tag, model_dir).apply()
