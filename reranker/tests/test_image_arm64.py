"""The default image on linux/arm64 (Apple Silicon's Docker, Graviton), built and probed here.

`reranker_image.ensure` with `platform=linux/arm64` builds through BuildKit for that platform
(on an x86 machine under qemu emulation: `weaviate_dev.services.cross_build`), from an arm64 base; the
container serves the protocol: in fp32 (`REDUCED_PRECISION=off`) the CrossEncoder's scores,
left to choose its precision (OpenVINO's CPU plugin: fp16 on ARM, where the model ranks alike
in it) within the stated reduced-precision bar. Where this machine cannot
build for arm64 (no buildx, no registered emulator) the test skips with the reason;
`make test-arm64` installs both (`weaviate-dev setup cross`: a few minutes on a bare machine)
and runs it.
"""

from __future__ import annotations

import dataclasses
import time

import pytest

from image_helpers import (FP32, RANKING_QUERIES, assert_exact, assert_ranks_alike,
                           ranking_documents, rerank_each, running, wait_ready)

pytestmark = pytest.mark.docker
PLATFORM = "linux/arm64"
DOCS = ["frank herbert wrote dune", "", "東京 🎉", "cats", "dune " * 100]


def test_the_default_image_builds_and_serves_on_arm64(weaviate_dev_settings, weaviate_dev_docker,
                                                      weaviate_dev_reranker_model_dir,
                                                      weaviate_dev_reranker_image_tag):
    from sentence_transformers import CrossEncoder

    from weaviate_dev.services import reranker_image
    from weaviate_dev.services.docker import cross_build, local_images

    missing = cross_build.missing(PLATFORM)
    if missing:
        pytest.skip(f"this machine cannot build for {PLATFORM}: {' and '.join(missing)} "
                    "missing (`make test-arm64` sets them up and runs this test)")
    settings = dataclasses.replace(weaviate_dev_settings, platform=PLATFORM)
    started = time.monotonic()
    image = reranker_image.ensure(settings, tag=f"{weaviate_dev_reranker_image_tag}-arm64",
                                  model_dir=weaviate_dev_reranker_model_dir)
    built = time.monotonic() - started
    assert local_images.image_platform(image) == PLATFORM
    size = weaviate_dev_docker.images.get(image).attrs["Size"]
    reference = CrossEncoder(str(weaviate_dev_reranker_model_dir))
    with running(image, weaviate_dev_docker, platform=PLATFORM, environment=FP32) as container:
        started = time.monotonic()
        url = wait_ready(container, timeout=300)
        ready = time.monotonic() - started
        arch = container.exec_run(["uname", "-m"]).output.strip()
        assert arch == b"aarch64"
        [scores] = rerank_each(url, ["who wrote dune"], DOCS)
        assert_exact(scores, reference.predict([["who wrote dune", d] for d in DOCS]))
    # Left to choose (fp16 on ARM where the model ranks alike in it): the reduced bar.
    docs = ranking_documents()
    with running(image, weaviate_dev_docker, platform=PLATFORM) as container:
        scores = rerank_each(wait_ready(container, timeout=300), RANKING_QUERIES, docs)
        start_line = next((line for line in container.logs().decode(errors="replace")
                           .splitlines() if "openvino engine" in line), "no start line")
    assert_ranks_alike(scores, [reference.predict([[q, d] for d in docs])
                                for q in RANKING_QUERIES])
    print(f"\n[arm64] {image}: built in {built:.0f}s, {size / 1e6:.0f} MB, ready in "
          f"{ready:.1f}s; left to choose: {start_line}")
