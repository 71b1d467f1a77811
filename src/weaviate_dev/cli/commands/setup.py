"""`weaviate-dev setup [STEP ...]`: install and build what the environment and the tests need.

By default it runs these steps in order (`cross` only when WEAVIATE_DEV_PLATFORM is set):
`engine` installs and starts the Docker engine if none answers; `cross` installs BuildKit and
an emulator to build images for another platform; `base` builds the base image of our images
(for WEAVIATE_DEV_PLATFORM when set); `weaviate-binary` builds the Weaviate server from its Go
module; `weaviate-image` builds an image around that server when Weaviate's image cannot be
pulled. Two steps run only when named: `weaviate-debug` compiles the debug build that
`run --debug` uses, so that `run --debug` then only links; `reranker-dependencies` builds the
dependency layers of each engine's reranker image into Docker's cache, so that an image of any
model then builds in seconds. Each step prints what it does and how long it took. It is safe
to run again: a step that is already done takes a moment.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from weaviate_dev.core.errors import UsageError
from weaviate_dev.core.progress import say
from weaviate_dev.core.settings import Settings
from weaviate_dev.services import images, reranker_image
from weaviate_dev.services.docker import cross_build
from weaviate_dev.services.docker import install as docker_install
from weaviate_dev.weaviate import build as weaviate_build
from weaviate_dev.weaviate import image, source_run

STEPS: dict[str, Callable[[Settings], object]] = {
    "engine": lambda settings: docker_install.ensure_engine(),
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
                        help=f"run only these steps, in the order above ({', '.join(STEPS)})")
    parser.add_argument("--skip-weaviate", action="store_true",
                        help="do not build or pull Weaviate")
    parser.set_defaults(handler=handle)


def handle(args, settings) -> int:
    """Run the chosen steps (all default steps when none is named); return 0."""
    unknown = [name for name in args.steps if name not in STEPS]
    if unknown:
        raise UsageError(f"unknown step(s) {', '.join(unknown)}; known steps: {', '.join(STEPS)}")
    names = ([name for name in STEPS if name in args.steps] if args.steps else
             [name for name in STEPS if name not in ON_REQUEST
              and (name != "cross" or settings.platform)])
    if args.skip_weaviate:
        names = [name for name in names if not name.startswith("weaviate-")]
    run_steps(settings, names)
    return 0


def run_steps(settings: Settings, names: Iterable[str]) -> None:
    """Run the named steps in order, printing how long each took."""
    for name in names:
        start = time.monotonic()
        result = STEPS[name](settings)
        detail = f": {result}" if result else ""
        say(f"{name} ready in {time.monotonic() - start:.1f}s{detail}")
