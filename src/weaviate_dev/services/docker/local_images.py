"""Look up, pull, import and remove images in the local Docker engine."""

from __future__ import annotations

from pathlib import Path

import docker.errors

from weaviate_dev.core.progress import say
from weaviate_dev.services.docker import engine


def image_present(ref: str) -> bool:
    """Return True when the engine has image `ref`."""
    return image_id(ref) is not None


def image_id(ref: str | None) -> str | None:
    """Return the id of a local image ("sha256:..."), or None when there is none."""
    if not ref:
        return None
    try:
        return engine.client().images.get(ref).id
    except docker.errors.ImageNotFound:
        return None


def image_labels(ref: str) -> dict[str, str] | None:
    """Return a local image's labels ({} when it has none), or None when there is no such
    image."""
    try:
        attrs = engine.client().images.get(ref).attrs
    except docker.errors.ImageNotFound:
        return None
    return dict((attrs.get("Config") or {}).get("Labels") or {})


def with_labels(labels: dict[str, str]) -> list[str]:
    """The ids of the local images, intermediate ones too, that carry every one of `labels`,
    newest first."""
    found = engine.client().api.images(
        all=True, filters={"label": [f"{name}={value}" for name, value in labels.items()]})
    return [image["Id"] for image in sorted(found, key=lambda i: i.get("Created") or 0,
                                            reverse=True)]


def labelled(label: str) -> list[tuple[dict[str, str], float]]:
    """(labels, creation time in seconds since the epoch) of every local image that carries
    `label`."""
    images = engine.client().api.images(filters={"label": label})
    return [(dict(image.get("Labels") or {}), float(image.get("Created") or 0))
            for image in images]


def image_platform(ref: str) -> str | None:
    """Return a local image's "os/arch", or None when there is no such image."""
    try:
        attrs = engine.client().images.get(ref).attrs
    except docker.errors.ImageNotFound:
        return None
    return f"{attrs.get('Os', 'linux')}/{attrs.get('Architecture', '?')}"


def pull(ref: str, platform: str | None = None) -> bool:
    """Pull `ref` (for `platform` when given); return False, after one line saying why, when
    the registry cannot be reached or does not have it."""
    say(f"pulling {ref}" + (f" for {platform}" if platform else ""))
    try:
        engine.client().images.pull(ref, platform=platform)
    except docker.errors.APIError as exc:
        say(f"cannot pull {ref}: {exc.explanation or exc}")
        return False
    return True


def remove_unused(ids) -> int:
    """Remove each image of `ids` that has no tag, no child image and no container (its
    untagged parents go with it, as with `docker rmi`); return the bytes freed. An image
    that a container still uses is kept, with one line saying so; one still tagged or with
    child images is skipped quietly."""
    wanted = [i for i in dict.fromkeys(ids) if i]
    if not wanted:
        return 0
    api = engine.client().api
    sizes = {image["Id"]: (image.get("ParentId") or "", image.get("Size") or 0)
             for image in api.images(all=True)}
    freed = 0
    for ref in wanted:
        try:
            attrs = api.inspect_image(ref)
        except docker.errors.NotFound:
            continue  # gone with an earlier one
        if attrs.get("RepoTags"):
            continue  # tagged again (e.g. the same build twice): not ours to remove
        try:
            deleted = api.remove_image(attrs["Id"], force=False, noprune=False)
        except docker.errors.APIError as exc:
            if exc.status_code == 409 and "child" not in str(exc.explanation or ""):
                say(f"kept image {attrs['Id'][:19]}: {exc.explanation or exc}")
            continue
        for entry in deleted or []:
            gone = entry.get("Deleted")
            if gone in sizes:
                parent, size = sizes[gone]
                freed += size - (sizes.get(parent, ("", 0))[1] if parent else 0)
    return freed


def split_tag(ref: str) -> tuple[str, str]:
    """Split "repo/name:tag" into ("repo/name", "tag"); the tag is "latest" when `ref` has
    none."""
    repository, sep, version = ref.rpartition(":")
    if not sep or "/" in version:  # no tag, or a registry port ("host:5000/name")
        return ref, "latest"
    return repository, version


def import_rootfs(tarball: Path, tag: str, changes: list[str]) -> str:
    """Import a root filesystem tarball as image `tag` (`docker import`) and return the tag."""
    repository, version_tag = split_tag(tag)
    engine.client().api.import_image_from_file(str(tarball), repository=repository, tag=version_tag,
                                        changes=changes)
    return tag
