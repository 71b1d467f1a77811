"""Build the reranker image from reranker/ and the model's files, streamed to Docker from a tar
file on disk, and label it with its `ImageSpec`.

When the model's files go into the image as they are (the usual case: an ONNX export made on
the host or already in the model's directory, or the torch engine's weights), the image is
built in two steps. First the Dockerfile's `model` stage alone, with the model in the context,
labelled with a key of everything that went into it (`model_stage_key`); then the whole image
on top of that stage (the build argument MODEL_FROM), from a context without the model. A
later build for the same model, after a source edit, finds that stage by its label and runs
only the second step: the model is neither sent to Docker nor copied again, and the new image
shares the model's layers with the one it replaces. Otherwise (torch weights to export in the
build, or a model repository's own export to fuse) one build with the model does both.

Package indexes reach the build through `index_relay` (no credential in any layer, label,
history entry or printed line). After the build, the images its `model`, `export` and
`exported` stages left behind are removed, found by the stage label the Dockerfile gives each
(a torch export stage is 5+ GB), and the freed disk is printed. The model stage an image is
built on stays as long as that image does: it is part of it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

from weaviate_dev.core.progress import say
from weaviate_dev.core.settings import Settings
from weaviate_dev.services import images
from weaviate_dev.services.docker import builds, local_images
from weaviate_dev.services.reranker_image import context, index_relay, shared_code, staging
from weaviate_dev.services.reranker_image.labels import LABEL, STAGE_LABEL, ImageSpec
from weaviate_dev.services.reranker_image.model import WEIGHT_SUFFIXES, ModelSource

# The stage of reranker/Dockerfile holding an engine's locked dependencies (the big layers).
DEPENDENCY_STAGE = "builder"
MODEL_STAGE = "model"
# The stages a finished build leaves behind, removed after it.
LEFTOVER_STAGES = ("model", "export", "exported")
# On a model stage image: the key of what went into it (`model_stage_key`).
MODEL_STAGE_LABEL = LABEL + "model_stage"
# The files of reranker/ that the `builder` and `model` stages read, besides requirements/
# and certs/: an edit of any other file reuses the model stage.
MODEL_STAGE_SOURCES = ("Dockerfile", "src/reranker/download.py", "src/reranker/engine_table.py",
                       "src/reranker/engine_table.json")
# Build arguments that change nothing in the image (they only reach it).
PASSING_ARGS = index_relay.PROXY_ARGS


def build(settings: Settings, tag: str, model: ModelSource, spec: ImageSpec) -> str | None:
    """Build `tag` with `model` baked in, labelled with `spec` (its base as the id of the base
    image used), then remove this build's leftover stages. Return the id of the image that had
    the tag before, for the caller to remove once nothing runs it; None when there was none or
    it is the same image."""
    replaced = local_images.image_id(tag)
    base = images.ensure_base_image(settings)
    spec = replace(spec, base=local_images.image_id(base) or "", base_name=base)
    staged = staging.model_files(settings, model)
    args = {"ENGINE": settings.reranker_engine, "MODEL_DESCRIPTION": model.describe(),
            "BASE_IMAGE": base, "MODEL_NAME": ""}  # the model never downloads in the build here
    platform = images.foreign_platform(settings)
    as_staged = goes_in_as_staged(settings, staged)
    stage_images: list[str] = []
    with index_relay.relay(settings) as indexes:
        args.update(indexes.buildargs)
        if platform:  # BuildKit keeps its own cache and leaves no stage images behind
            args["MODEL_FROM"] = MODEL_STAGE if as_staged else "exported"
            with context.temporary_tar(settings, staged) as (tar_file, context_args):
                announce(settings, tag, tar_file, {**args, **context_args})
                with tar_file.open("rb") as stream:
                    built = builds.build_for(stream, tag=tag, buildargs={**args, **context_args},
                                             platform=platform, labels=spec.labels())
        else:
            model_from = "exported"
            if as_staged:
                model_from, stage_images = model_stage(settings, tag, staged, args, spec.base)
            with context.temporary_tar(settings, () if as_staged else staged) as (
                    tar_file, context_args):
                buildargs = {"LOCAL_MODEL_DIR": "", **args, **context_args,
                             "MODEL_FROM": model_from}
                announce(settings, tag, tar_file, buildargs)
                with tar_file.open("rb") as stream:
                    built = builds.build(stream, tag=tag, buildargs=buildargs,
                                         labels=spec.labels())
            stage_images += built.stages
    freed = local_images.remove_unused(leftover_stages(stage_images))
    if freed:
        say(f"removed this build's leftover stages: {freed / 1e6:.0f} MB freed")
    return replaced if replaced != built.image_id else None


def goes_in_as_staged(settings: Settings, staged: list[tuple[str, Path]]) -> bool:
    """Return whether the staged model files go into the image as they are: the engine runs
    torch weights, or they are an export of ours (its stamp `onnx/export.json`, no weights
    beside it). Otherwise the build's `export` stage still exports or fuses them."""
    if settings.reranker_engines.onnx_file(settings.reranker_engine) is None:
        return True
    names = {name for name, _ in staged}
    return "onnx/export.json" in names and not any(n.endswith(WEIGHT_SUFFIXES) for n in names)


def model_stage(settings: Settings, tag: str, staged: list[tuple[str, Path]],
                args: dict[str, str], base_id: str) -> tuple[str, list[str]]:
    """Return the id of the model stage image for these files and arguments, and the stage
    images its build made. The stage is found by its label, or built now with the model in
    the context."""
    key = model_stage_key(settings, staged, args, base_id)
    found = local_images.with_labels({STAGE_LABEL: MODEL_STAGE, MODEL_STAGE_LABEL: key})
    if found:
        say(f"reranker image {tag}: the model's layers are reused (model stage "
            f"{found[0].removeprefix('sha256:')[:12]}); the model is not sent again")
        return found[0], []
    with context.temporary_tar(settings, staged) as (tar_file, context_args):
        buildargs = {**args, **context_args}
        announce(settings, f"{tag} (model stage)", tar_file, buildargs)
        with tar_file.open("rb") as stream:
            built = builds.build(stream, tag=f"{tag} (model stage)", buildargs=buildargs,
                                 target=MODEL_STAGE, tag_result=False,
                                 labels={MODEL_STAGE_LABEL: key})
    return built.image_id, list(built.stages)


def model_stage_key(settings: Settings, staged: list[tuple[str, Path]],
                    args: dict[str, str], base_id: str) -> str:
    """Return a digest of everything the image's `builder` and `model` stages take: the base
    image's id, the model's files (by name, place, size and time), the build arguments except
    the relay's address, the CA bundle, and the reranker files those stages read
    (`MODEL_STAGE_SOURCES`, requirements/)."""
    download = shared_code.module(settings.project_root, "download")
    sources = {name: download.file_digest(path) for name, path in context.source_files(settings)
               if name in MODEL_STAGE_SOURCES or name.startswith(("requirements/", "certs/"))}
    if settings.ca_bundle:
        sources[context.CA_NAME] = download.file_digest(settings.ca_bundle)
    model = [(name, str(path), path.stat().st_size, path.stat().st_mtime_ns)
             for name, path in staged]
    wanted = {k: v for k, v in args.items() if k not in PASSING_ARGS}
    identity = {"base": base_id, "sources": sources, "model": model, "args": wanted}
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


def leftover_stages(stage_images: list[str]) -> list[str]:
    """Return the stage images of a build whose stage label names a leftover stage
    (`LEFTOVER_STAGES`). They are removed after the build, with their untagged parents, unless
    an image builds on them."""
    return [image for image in dict.fromkeys(stage_images)
            if (local_images.image_labels(image) or {}).get(STAGE_LABEL) in LEFTOVER_STAGES]


def announce(settings: Settings, name: str, tar_file: Path, buildargs: dict[str, str]) -> None:
    """Print the line that starts a build: the context's size and the build arguments, with
    package indexes masked."""
    shown = {k: v for k, v in buildargs.items() if k not in (
        "MODEL_DESCRIPTION", *PASSING_ARGS, "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL")}
    indexes = index_relay.describe(settings)
    say(f"building {name}: context {tar_file.stat().st_size / 1e6:.0f} MB from disk "
        f"({json.dumps(shown)})" + (f"; package indexes through a relay: {indexes}"
                                     if indexes else ""))


def prebuild_dependencies(settings: Settings, engines: list[str] | None = None) -> str:
    """Build the dependency layers of each engine's image (default: one engine per extra)
    into Docker's layer cache ahead of time, so that a later image of any model for these
    engines builds in seconds. Nothing is tagged; `docker image prune` frees them. Return the
    engines, separated by commas."""
    table = settings.reranker_engines
    if engines is None:  # one engine per extra: openvino, onnx, torch
        by_extra: dict[str, str] = {}
        for name in table.names:
            by_extra.setdefault(table.extras[name], name)
        engines = list(by_extra.values())
    base = images.ensure_base_image(settings)
    with context.temporary_tar(settings) as (tar_file, args), \
            index_relay.relay(settings) as indexes:
        for engine in engines:
            say(f"building the dependency layers of ENGINE={engine} (the image's stage "
                f"{DEPENDENCY_STAGE!r})")
            with tar_file.open("rb") as stream:
                builds.build(stream, tag=f"{engine} dependencies",
                             target=DEPENDENCY_STAGE, tag_result=False,
                             buildargs={**args, "ENGINE": engine, "BASE_IMAGE": base,
                                        **indexes.buildargs})
    return ", ".join(engines)
