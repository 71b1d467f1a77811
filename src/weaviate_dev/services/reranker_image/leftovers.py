"""Remove, in the next run, what interrupted runs left in the toolkit's cache.

The image pipeline writes into the cache through scratch directories named after the process
that makes them (`core.scratch`): an ONNX export (`<cache>/exports/.partial-*`, with the
export's own `.export-*` scratch inside it) and the build context tar (`<cache>/tmp/
weaviate-dev-context-*`, as large as the model). A process killed in the middle (SIGKILL, the
OOM killer) leaves them behind; `sweep` removes those whose process is gone, once per process,
and prints how much disk that freed. A hub download goes into the Hugging Face cache instead: a
killed one leaves an unfinished file there that nothing resumes, removed for the configured
model once no download writes it (`hub.remove_abandoned`).
"""

from __future__ import annotations

from weaviate_dev.core import scratch
from weaviate_dev.core.progress import say
from weaviate_dev.core.settings import Settings
from weaviate_dev.services.reranker_image import hub

EXPORT_PREFIX = ".partial-"  # in <cache>/exports/
CONTEXT_PREFIX = "weaviate-dev-context-"  # in <cache>/tmp/
# (folder in the cache, scratch prefix, what one is called in printed lines)
PLACES = (("exports", EXPORT_PREFIX, "unfinished ONNX export"),
          ("tmp", CONTEXT_PREFIX, "build context"))

_swept: set[tuple] = set()  # what this process swept already


def sweep(settings: Settings) -> None:
    """Remove what dead runs left in the toolkit's cache, and what a killed download of the
    configured hub model left in the Hugging Face cache (each once per process), and print
    what was removed."""
    if ("cache", settings.cache_dir) not in _swept:
        _swept.add(("cache", settings.cache_dir))
        kinds, freed = [], 0
        for folder, prefix, kind in PLACES:
            swept = scratch.sweep(settings.cache_dir / folder, prefix)
            if swept:
                count = len(swept.paths)
                kinds.append(f"{count} {kind}{'s' if count > 1 else ''}")
                freed += swept.freed
        if kinds:
            say(f"removed what interrupted runs left in {settings.cache_dir}: "
                f"{', '.join(kinds)} ({freed / 1e6:.0f} MB freed)")
    hub_key = ("hub", settings.hf_hub_cache, settings.model_name)
    if settings.model_dir is None and hub_key not in _swept:
        _swept.add(hub_key)
        unfinished = hub.remove_abandoned(settings, settings.model_name)
        if unfinished:
            say(f"removed what an interrupted download of {settings.model_name} left in the "
                f"Hugging Face cache {settings.hf_hub_cache} ({unfinished / 1e6:.0f} MB freed)")
