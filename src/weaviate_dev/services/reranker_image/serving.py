"""Find which model, engine and precision a running reranker serves, as it reports them.

The reranker exports `reranker_engine_info{engine, precision, model, model_type} 1` on GET
/metrics (model: the name in the image's MODEL_INFO, e.g. "org/name@<commit>"). With metrics
off, the image's labels (`reranker_image.ImageSpec`) still name the model and engine, but the
precision is unknown.
"""

from __future__ import annotations

import re

import requests

from weaviate_dev.services.docker import local_images
from weaviate_dev.services.reranker_image.labels import ImageSpec

INFO = "reranker_engine_info"
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def engine_info(url: str, timeout: float = 5) -> dict[str, str] | None:
    """Return the labels of reranker_engine_info from `url`/metrics, or None when the
    reranker does not report it."""
    try:
        response = requests.get(f"{url.rstrip('/')}/metrics", timeout=timeout)
    except requests.RequestException:
        return None
    if response.status_code != 200:
        return None
    return parse_info(response.text)


def parse_info(text: str) -> dict[str, str] | None:
    """Return the labels of the reranker_engine_info line in a /metrics page, or None."""
    for line in text.splitlines():
        if line.startswith(INFO + "{"):
            labels = line[len(INFO) + 1:line.rindex("}")]
            return {key: re.sub(r"\\(.)", r"\1", value)
                    for key, value in _LABEL.findall(labels)}
    return None


def describe(url: str, image: str | None = None) -> str:
    """Return e.g. "org/name@<commit> (engine openvino, bf16)", from /metrics, else from the
    image's labels."""
    info = engine_info(url)
    if info and info.get("model"):
        return f"{info['model']} (engine {info.get('engine', '?')}, " \
               f"{info.get('precision', '?')})"
    spec = ImageSpec.from_labels(local_images.image_labels(image)) if image else None
    if spec:
        return f"{spec.model} (engine {spec.engine}, precision unknown: no /metrics)"
    return "an unknown model (no /metrics, no weaviate-dev labels on its image)"
