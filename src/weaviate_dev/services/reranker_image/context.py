"""Write the reranker image's build context as a tar file on disk, for Docker to read.

The context holds reranker/ (its Dockerfile, locked requirement files and source; never tests
or caches), the CA bundle a proxy needs (certs/ca-bundle.crt) and the model's files under
models/local/, each read from where it lies (a model directory, the download cache, an export)
and never copied first. The tar is written once into a temporary file in the cache, so a
multi-GB model costs disk for one copy and a few MB of memory, however large it is (a run
killed meanwhile leaves the file behind; the next run removes it: `leftovers`).

`source_digest` hashes exactly the reranker/ part of the context (names and bytes); the
image's label records it to say which reranker source the image was built from.
`temporary_tar` provides the tar file for the duration of a build.
"""

from __future__ import annotations

import contextlib
import tarfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from weaviate_dev.core import scratch
from weaviate_dev.core.errors import DevError
from weaviate_dev.core.settings import Settings
from weaviate_dev.services.reranker_image import leftovers, shared_code

# Paths of reranker/ never sent to the image build (reranker/.dockerignore says the same).
EXCLUDED = {"tests", "__pycache__", ".pytest_cache", "models", "certs", "build"}
KEPT_READMES = ("models/README.md", "certs/README.md")
MODEL_ROOT = "models/local"
CA_NAME = "certs/ca-bundle.crt"


def reranker_dir(settings: Settings) -> Path:
    """Return the project's reranker/ directory; raise DevError when it has no Dockerfile."""
    source = settings.project_root / "reranker"
    if not (source / "Dockerfile").is_file():
        raise DevError(f"no reranker Dockerfile at {source}")
    return source


def source_files(settings: Settings) -> list[tuple[str, Path]]:
    """Return (name in the context, file) for every file of reranker/ that the build gets,
    sorted."""
    source = reranker_dir(settings)
    found = []
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        parts = relative.parts
        if not path.is_file() or parts[0] in EXCLUDED or parts[0].startswith("."):
            continue
        if "__pycache__" in parts or any(p.endswith((".egg-info", ".pyc")) for p in parts):
            continue
        found.append((relative.as_posix(), path))
    found += [(name, source / name) for name in KEPT_READMES if (source / name).is_file()]
    return sorted(found)


def source_digest(settings: Settings) -> str:
    """Return the digest of the reranker/ part of the context (its names and bytes), computed
    as the reranker computes the digest of a model's files (`download.combine`)."""
    download = shared_code.module(settings.project_root, "download")
    return download.combine({name: download.file_digest(path)
                             for name, path in source_files(settings)})


@contextlib.contextmanager
def temporary_tar(settings: Settings, model_files: Iterable[tuple[str, Path]] = ()
                  ) -> Iterator[tuple[Path, dict[str, str]]]:
    """While entered, provide the context as a tar file and its build arguments. The tar is
    written into a scratch directory in the toolkit's cache (a real disk: /tmp may be a small
    tmpfs), which is removed afterwards. The directory is named after this process, so that
    the next run removes it if this one is killed."""
    with scratch.directory(settings.cache_dir / "tmp", leftovers.CONTEXT_PREFIX) as tmp:
        target = Path(tmp) / "context.tar"
        yield target, write(target, settings, model_files)


def write(target: Path, settings: Settings,
          model_files: Iterable[tuple[str, Path]] = ()) -> dict[str, str]:
    """Write the context to the tar file `target` and return the build arguments that point
    into it.

    model_files: (name under the model directory, file) pairs; symlinks are followed (a hub
    snapshot's files may be links)."""
    args: dict[str, str] = {}
    with tarfile.open(target, "w", dereference=True) as tar:
        for name, path in source_files(settings):
            tar.add(str(path), arcname=name, recursive=False, filter=_normalised)
        if settings.ca_bundle:
            if not settings.ca_bundle.is_file():
                raise DevError(f"CA bundle {settings.ca_bundle} is not a file")
            tar.add(str(settings.ca_bundle), arcname=CA_NAME, filter=_normalised)
            args["CA_BUNDLE"] = CA_NAME
        staged = list(_checked(model_files))
        for name, path in staged:
            tar.add(str(path), arcname=f"{MODEL_ROOT}/{name}", recursive=False,
                    filter=_normalised)
        if staged:
            args["LOCAL_MODEL_DIR"] = MODEL_ROOT
    return args


def _checked(model_files: Iterable[tuple[str, Path]]) -> Iterator[tuple[str, Path]]:
    """Yield the model files; raise DevError for a name outside the model directory or a
    missing file."""
    for name, path in model_files:
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise DevError(f"model file {name!r} would land outside {MODEL_ROOT}")
        if not Path(path).is_file():
            raise DevError(f"model file {path} is missing")
        yield name, Path(path)


def _normalised(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """Clear a tar entry's owner and time, so that Docker's layer cache keys on the contents
    alone."""
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mtime = 0
    info.mode = 0o755 if info.isdir() or info.mode & 0o111 else 0o644
    return info
