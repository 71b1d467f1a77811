"""`weaviate-dev setup [STEP ...]`: everything the environment and the tests need, idempotently.

Steps, in this order (default: all, `cross` only with WEAVIATE_DEV_PLATFORM set): `engine`
(the Docker engine, installed and started if none answers), `cross` (BuildKit and an emulator,
to build images for another platform: `cross_build`), `base` (the base image of our images, for
WEAVIATE_DEV_PLATFORM when set), `weaviate-binary` (the server from its Go module),
`weaviate-image` (an image around it when the real image cannot be pulled); and only when
named, `weaviate-debug` (the debug build `run --debug` makes of the pinned module's source, made
ahead: `run --debug` then only links) and `reranker-dependencies` (the dependency layers of each
engine's reranker image, built ahead into Docker's cache: an image of any model then builds in
seconds). Each step prints what it does and how long it took; a step that already happened
takes a moment.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from weaviate_dev.core.errors import UsageError
from weaviate_dev.core.progress import say
from weaviate_dev.core.settings import Settings
from weaviate_dev.services import images, reranker_image
from weaviate_dev.services.docker import cross_build
from weaviate_dev.services.docker import install as environment
from weaviate_dev.weaviate import build as weaviate_build
from weaviate_dev.weaviate import image, source_run

STEPS: dict[str, Callable[[Settings], object]] = {
    "engine": lambda settings: environment.ensure_engine(),
    "cross": cross_build.ensure,
    "base": images.ensure_base_image,
    "weaviate-binary": weaviate_build.ensure_binary,
    "weaviate-image": image.ensure_weaviate_image,
    "weaviate-debug": source_run.prebuild_debug,
    "reranker-dependencies": reranker_image.prebuild_dependencies,
}
# Steps run only when named: what `run --debug` needs, the reranker engines' dependency layers.
ON_REQUEST = ("weaviate-debug", "reranker-dependencies")


def register(subparsers):
    parser = subparsers.add_parser(
        "setup", help="install/start Docker, build the images and the Weaviate server",
        description=__doc__)
    parser.add_argument("steps", nargs="*", metavar="STEP",
                        help=f"only these steps, in the order above ({', '.join(STEPS)})")
    parser.add_argument("--skip-weaviate", action="store_true",
                        help="do not build or pull Weaviate")
    parser.set_defaults(handler=handle)


def handle(args, settings) -> int:
    unknown = [name for name in args.steps if name not in STEPS]
    if unknown:
        raise UsageError(f"unknown step(s) {', '.join(unknown)}; the steps: {', '.join(STEPS)}")
    names = ([name for name in STEPS if name in args.steps] if args.steps else
             [name for name in STEPS if name not in ON_REQUEST
              and (name != "cross" or settings.platform)])
    if args.skip_weaviate:
        names = [name for name in names if not name.startswith("weaviate-")]
    run_steps(settings, names)
    return 0


def run_steps(settings: Settings, names: Iterable[str]) -> None:
    """Run the named steps in order, each timed."""
    for name in names:
        start = time.monotonic()
        result = STEPS[name](settings)
        detail = f": {result}" if result else ""
        say(f"{name} ready in {time.monotonic() - start:.1f}s{detail}")
