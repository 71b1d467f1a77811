"""Build the reranker image: reranker/ and the model's files, streamed to Docker from a tar file
on disk and labelled with the `ImageSpec` they make. After the build, its leftover stages are
removed (a torch export stage is 5+ GB) and the freed disk is printed.
"""

from __future__ import annotations

import json

from weaviate_dev.core.progress import say
from weaviate_dev.core.settings import Settings
from weaviate_dev.services import images
from weaviate_dev.services.docker import builds, local_images
from weaviate_dev.services.reranker_image import context, staging
from weaviate_dev.services.reranker_image.labels import ImageSpec
from weaviate_dev.services.reranker_image.model import ModelSource


def build(settings: Settings, tag: str, model: ModelSource, spec: ImageSpec) -> str | None:
    """reranker/ + the model's files, streamed from a tar file on disk; labelled with `spec`;
    afterwards this build's dangling stages are removed. The id of the image that had the tag
    before (None: there was none), for the caller to remove once nothing runs it."""
    replaced = local_images.image_id(tag)
    base = images.ensure_base_image(settings)
    staged = staging.files(settings, model)
    buildargs = {"ENGINE": settings.reranker_engine, "MODEL_DESCRIPTION": model.describe(),
                 **download_sources(settings), "BASE_IMAGE": base}
    with context.written(settings, staged) as (tar_file, args):
        buildargs.update(args)
        say(f"building {tag}: context {tar_file.stat().st_size / 1e6:.0f} MB from disk "
            f"({json.dumps({k: v for k, v in buildargs.items() if k != 'MODEL_DESCRIPTION'})})")
        platform = images.foreign_platform(settings)
        with tar_file.open("rb") as stream:
            if platform:
                result = builds.build_for(stream, tag=tag, buildargs=buildargs,
                                                 platform=platform, labels=spec.labels())
            else:
                result = builds.build(stream, tag=tag, buildargs=buildargs,
                                             labels=spec.labels())
    freed = local_images.remove_unused(result.leftovers)
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
    with context.written(settings) as (tar_file, args):
        for engine in engines:
            say(f"dependency layers of ENGINE={engine} (the image's stage "
                f"{DEPENDENCY_STAGE!r})")
            with tar_file.open("rb") as stream:
                builds.build(stream, tag=f"{engine} dependencies",
                                    target=DEPENDENCY_STAGE, tag_result=False,
                                    buildargs={**args, "ENGINE": engine, "BASE_IMAGE": base,
                                               **download_sources(settings)})
    return ", ".join(engines)


def download_sources(settings: Settings) -> dict[str, str]:
    """Package indexes for the build (the model never downloads inside it here)."""
    return {k: v for k, v in settings.download_sources().items() if k != "HF_ENDPOINT"}
