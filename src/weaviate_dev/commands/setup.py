"""`weaviate-dev setup`: everything the environment and the tests need, idempotently.

The Docker engine (installed and started if none answers), the base image, the Weaviate
server (binary from the Go module, and an image around it when the real image cannot be
pulled). Each step prints what it does and how long it took.
"""

from __future__ import annotations

import time

from weaviate_dev import environment, images, weaviate_build


def register(subparsers):
    parser = subparsers.add_parser(
        "setup", help="install/start Docker, build the images and the Weaviate server",
        description=__doc__)
    parser.add_argument("--skip-weaviate", action="store_true",
                        help="do not build or pull Weaviate")
    parser.set_defaults(handler=handle)


def handle(args, settings) -> int:
    steps = [("Docker engine", environment.ensure_engine)]
    client = None

    def base():
        nonlocal client
        client = images.docker_client()
        return images.ensure_base_image(settings, client)

    steps.append(("base image", base))
    if not args.skip_weaviate:
        steps.append(("Weaviate binary", lambda: weaviate_build.ensure_binary(settings)))
        steps.append(("Weaviate image", lambda: images.ensure_weaviate_image(settings, client)))
    for name, step in steps:
        start = time.monotonic()
        result = step()
        detail = f": {result}" if result else ""
        images.say(f"{name} ready in {time.monotonic() - start:.1f}s{detail}")
    return 0
