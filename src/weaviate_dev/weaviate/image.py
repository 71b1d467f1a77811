"""Provide a Weaviate Docker image: the configured one when it is present or can be pulled,
else one built around a local binary.

A machine that cannot reach a registry cannot pull Weaviate's image. `ensure_weaviate_image`
then builds one: a weaviate-server binary built from Weaviate's Go module (`weaviate.build`)
on our base image (`services.images`), using the `image.Dockerfile` next to this module.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from weaviate_dev.core.progress import say
from weaviate_dev.core.settings import DEFAULT_WEAVIATE_IMAGE, LOCAL_WEAVIATE_IMAGE, Settings
from weaviate_dev.services import images
from weaviate_dev.services.docker import builds
from weaviate_dev.weaviate import build as weaviate_build

DOCKERFILE = Path(__file__).with_name("image.Dockerfile")


def build_weaviate_image(settings: Settings, tag: str) -> str:
    """Build image `tag` around a weaviate-server binary (built from the Go module if
    needed) and return the tag."""
    binary = weaviate_build.ensure_binary(settings)
    base = images.ensure_base_image(settings)
    say(f"building {tag} from {binary} on {base}")
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        images.add_bytes(tar, "Dockerfile", DOCKERFILE.read_bytes())
        tar.add(str(binary), arcname="weaviate-server")
    return builds.build(context, tag=tag, buildargs={"BASE_IMAGE": base}).tag


def ensure_weaviate_image(settings: Settings) -> str:
    """Return the tag of a Weaviate image: the configured one when it is present or can be
    pulled, else one built around a local binary."""
    wanted = settings.weaviate_image
    fallback = (LOCAL_WEAVIATE_IMAGE
                if wanted in (DEFAULT_WEAVIATE_IMAGE, LOCAL_WEAVIATE_IMAGE) else wanted)
    return images.ensure_image(wanted, fallback, lambda: build_weaviate_image(settings, fallback))
