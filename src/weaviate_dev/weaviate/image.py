"""Weaviate as an image: the configured one if it can be had, else one around a binary.

No Weaviate image can be pulled on a machine without a registry: `ensure_weaviate_image` then
packages a weaviate-server built from Weaviate's Go module (`weaviate.build`) on our base image
(`services.images`), with `image.Dockerfile` beside this module.
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
    """Package a weaviate-server binary (built from the Go module if needed) as an image."""
    binary = weaviate_build.ensure_binary(settings)
    base = images.ensure_base_image(settings)
    say(f"building {tag} from {binary} on {base}")
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        images.add_bytes(tar, "Dockerfile", DOCKERFILE.read_bytes())
        tar.add(str(binary), arcname="weaviate-server")
    return builds.build(context, tag=tag, buildargs={"BASE_IMAGE": base}).tag


def ensure_weaviate_image(settings: Settings) -> str:
    """The Weaviate image: the configured one, or one built around a local binary."""
    wanted = settings.weaviate_image
    fallback = (LOCAL_WEAVIATE_IMAGE
                if wanted in (DEFAULT_WEAVIATE_IMAGE, LOCAL_WEAVIATE_IMAGE) else wanted)
    return images.ensure_image(wanted, fallback, lambda: build_weaviate_image(settings, fallback))
