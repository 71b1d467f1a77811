"""Ask the Hugging Face Hub, through huggingface_hub, which commit a model's revision points
to and which files that commit has, and download those files into the user's own Hugging Face
cache.

- `model_files` returns the commit a revision points to now and every file of it
  (`HfApi.model_info`). For a gated model it also checks that the token may download it
  (huggingface_hub's metadata request for config.json, the first thing a download asks for),
  so that missing access stops the command before anything slow.
- `cached_files` finds the files of a commit that are already in the Hugging Face cache,
  without asking anything (`try_to_load_from_cache`); `download` downloads the missing ones
  into it (`snapshot_download`, with huggingface_hub's progress bars on the terminal). The
  cache is the user's (HF_HUB_CACHE, HF_HOME): what another tool downloaded there is not
  downloaded again, and what we download is there for other tools too.

The token is the user's: HF_TOKEN, else the one that `hf auth login` (`huggingface-cli login`)
saved, as huggingface_hub finds it. Each of huggingface_hub's errors becomes one line (no such
model, gated, no such revision, a refused token). A hub that cannot be reached (no connection,
no answer in time, a server error) raises `Unreachable`, and the caller may use a remembered
commit instead.
"""

from __future__ import annotations

import contextlib
import re
import ssl
from collections.abc import Iterator
from pathlib import Path

from weaviate_dev.core import locks
from weaviate_dev.core.errors import DevError
from weaviate_dev.core.settings import Settings

# huggingface_hub and its HTTP client (httpx2) are imported where they are used: commands that
# never ask the hub (status, logs, down) do not pay for them.
TIMEOUT = 10.0  # seconds for each request: the check must answer long before a build would
COMMIT = re.compile(r"[0-9a-f]{40}")


class Unreachable(Exception):
    """Raised when the hub cannot be reached: no connection, no answer in time, or a server
    error. The message gives the reason in a few words."""


def checked_commit(commit: object, what: str) -> str:
    """Return `commit` when it is a commit id (40 hex characters), the only form that may
    become part of a path; raise DevError otherwise."""
    if not isinstance(commit, str) or not COMMIT.fullmatch(commit):
        raise DevError(f"the hub answered {commit!r} as the commit of {what}, which is not a "
                       "commit id (40 hex characters): is HF_ENDPOINT a Hugging Face hub?")
    return commit


def model_files(settings: Settings, name: str, revision: str) -> tuple[str, list[str]]:
    """Return the commit that `revision` points to now, and every file of that commit. Raise
    DevError (one line) when the hub refuses the model, the revision or access, and
    Unreachable when the hub cannot be reached."""
    import huggingface_hub

    with readable_errors(settings, name, revision):
        info = _api(settings).model_info(name, revision=revision, timeout=TIMEOUT)
        commit = checked_commit(info.sha, f"{name} at {revision}")
        files = [sibling.rfilename for sibling in info.siblings or []]
        if info.gated and "config.json" in files:
            huggingface_hub.get_hf_file_metadata(
                huggingface_hub.hf_hub_url(name, "config.json", revision=commit,
                                           endpoint=settings.hf_endpoint),
                token=settings.hf_token, timeout=TIMEOUT)
    return commit, files


def cached_files(settings: Settings, name: str, commit: str,
                 files: tuple[str, ...]) -> list[tuple[str, Path]] | None:
    """Return (name, path) for every file of `files` at `commit` in the Hugging Face cache, or
    None when any is missing. The hub is not asked."""
    import huggingface_hub

    found = []
    for file in files:
        path = huggingface_hub.try_to_load_from_cache(
            name, file, cache_dir=settings.hf_hub_cache, revision=checked_commit(commit, name))
        if not isinstance(path, str):
            return None
        found.append((file, Path(path)))
    return found


def download(settings: Settings, name: str, commit: str,
             files: tuple[str, ...]) -> list[tuple[str, Path]]:
    """Download `files` of `commit` into the Hugging Face cache (files already there are
    kept) and return (name, path) for each."""
    import huggingface_hub
    from huggingface_hub import errors as hub_errors

    with readable_errors(settings, name, commit):
        try:
            root = Path(huggingface_hub.snapshot_download(
                name, revision=checked_commit(commit, name), allow_patterns=list(files),
                cache_dir=settings.hf_hub_cache, endpoint=settings.hf_endpoint,
                token=settings.hf_token, etag_timeout=TIMEOUT))
        except hub_errors.LocalEntryNotFoundError as exc:
            # snapshot_download's way of saying the hub could not be reached
            raise Unreachable(reason(exc.__cause__ or exc)) from None
    missing = [file for file in files if not (root / file).is_file()]
    if missing:
        raise DevError(f"{name}@{commit}: the hub did not serve {', '.join(missing)}")
    return [(file, root / file) for file in files]


def remove_abandoned(settings: Settings, name: str) -> int:
    """Remove the unfinished files of `name` in the Hugging Face cache that no download is
    writing, and return the bytes freed. huggingface_hub downloads a file into
    `blobs/<etag>.<random>.incomplete` while it holds the lock
    `.locks/models--<org>--<name>/<etag>.lock`, and removes the file when the download fails;
    a download killed midway leaves it behind for good (nothing resumes it). A file whose lock
    nobody holds is such a leftover."""
    folder = f"models--{name.replace('/', '--')}"
    blobs = settings.hf_hub_cache / folder / "blobs"
    freed = 0
    for path in sorted(blobs.glob("*.incomplete")) if blobs.is_dir() else []:
        etag = path.name.split(".")[0]
        if locks.is_held(settings.hf_hub_cache / ".locks" / folder / f"{etag}.lock"):
            continue
        with contextlib.suppress(OSError):
            size = path.stat().st_size
            path.unlink()
            freed += size
    return freed


def has_token(settings: Settings) -> bool:
    """Return whether requests carry a token (HF_TOKEN, or the one a login saved)."""
    import huggingface_hub

    return bool(settings.hf_token or huggingface_hub.get_token())


@contextlib.contextmanager
def readable_errors(settings: Settings, name: str, revision: str) -> Iterator[None]:
    """While entered, turn huggingface_hub's errors into one-line DevErrors, or into
    Unreachable when the hub cannot be reached."""
    import httpx2
    from huggingface_hub import errors as hub_errors

    _trust(settings)
    page = f"{settings.hf_endpoint.rstrip('/')}/{name}"
    try:
        yield
    except hub_errors.GatedRepoError:  # before RepositoryNotFoundError: a subclass of it
        if has_token(settings):
            raise DevError(f"{name} is a gated model and the token (HF_TOKEN, or the one your "
                           f"login saved) has no access to it: accept its conditions on {page} "
                           "with that token's account, or use a token of an account that "
                           "did") from None
        raise DevError(f"{name} is a gated model: accept its conditions on {page}, then log "
                       "in (hf auth login) or set HF_TOKEN to a token of that account (it is "
                       "used for the download only, never stored in the image)") from None
    except hub_errors.RepositoryNotFoundError:
        raise DevError(f"there is no model {name} on {settings.hf_endpoint} that this login "
                       "can see: check WEAVIATE_DEV_MODEL_NAME (org/name, as in the address of "
                       "the model's page)") from None
    except hub_errors.RevisionNotFoundError:
        raise DevError(f"{name} has no revision {revision!r} (WEAVIATE_DEV_MODEL_REVISION: a "
                       "branch, tag or commit)") from None
    except hub_errors.HFValidationError as exc:
        raise DevError(f"WEAVIATE_DEV_MODEL_NAME={name!r} is not a model id of the hub "
                       f"(org/name): {_first_line(exc)}") from None
    except hub_errors.OfflineModeIsEnabled:
        raise Unreachable("huggingface_hub is offline: HF_HUB_OFFLINE is set") from None
    except hub_errors.HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else None
        if status is None or status >= 500 or status == 429:
            raise Unreachable(f"it answered {status or 'nothing'}") from None
        if status == 401:
            raise DevError(f"the hub refused the token for {name} (HF_TOKEN, or the one your "
                           f"login saved): {_first_line(exc, last=True)}") from None
        raise DevError(f"the hub answered {status} for {name}@{revision}: "
                       f"{_first_line(exc, last=True)}") from None
    except httpx2.HTTPError as exc:  # no connection, a timeout, a proxy or TLS failure
        raise Unreachable(reason(exc)) from None


def reason(exc: BaseException) -> str:
    """Return why a request got no answer, in a few words ("Connection refused")."""
    import httpx2

    if isinstance(exc, httpx2.TimeoutException):
        return f"no answer within {TIMEOUT:.0f}s"
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return "TLS verification failed: set WEAVIATE_DEV_CA_BUNDLE to your proxy's CA bundle"
    errno = re.findall(r"\[Errno -?\d+\] ([^'\")\]]+)", text)
    if errno:
        return errno[-1].strip()
    return _first_line(exc) or type(exc).__name__


def _first_line(exc: BaseException, last: bool = False) -> str:
    """Return the first (or last) non-empty line of an error's message."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return (lines[-1] if last else lines[0]) if lines else ""


def _api(settings: Settings):
    """Return huggingface_hub's HfApi for the configured hub and token."""
    import huggingface_hub

    return huggingface_hub.HfApi(endpoint=settings.hf_endpoint, token=settings.hf_token,
                                 library_name="weaviate-dev")


_trusted: list[Path | None] = [None]  # the CA bundle huggingface_hub's client trusts now


def _trust(settings: Settings) -> None:
    """Make huggingface_hub's HTTP client trust the CA bundle of a proxy
    (WEAVIATE_DEV_CA_BUNDLE) when one is set. Downloads then go over plain HTTPS, which honours
    the bundle (Xet may not)."""
    import huggingface_hub
    from huggingface_hub import constants as hub_constants

    if settings.ca_bundle == _trusted[0]:
        return
    if settings.ca_bundle is None:
        huggingface_hub.set_client_factory(_default_factory)
    elif not settings.ca_bundle.is_file():
        raise DevError(f"CA bundle {settings.ca_bundle} is not a file (WEAVIATE_DEV_CA_BUNDLE)")
    else:
        context = ssl.create_default_context(cafile=str(settings.ca_bundle))
        hub_constants.HF_HUB_DISABLE_XET = True
        huggingface_hub.set_client_factory(lambda: _default_factory(verify=context))
    _trusted[0] = settings.ca_bundle


def _default_factory(**options):
    """Return huggingface_hub's own client, with its request hook (offline mode, request
    ids)."""
    import httpx2
    from huggingface_hub.utils._http import hf_request_event_hook  # not exported elsewhere

    return httpx2.Client(event_hooks={"request": [hf_request_event_hook]},
                         follow_redirects=True, timeout=None, **options)
