"""What a running reranker serves: its model, engine and precision, as it reports them.

The reranker exports `reranker_engine_info{engine, precision, model, model_type} 1` on GET
/metrics (model: what the image's MODEL_INFO names, e.g. "org/name@<commit>"). With metrics off
the image's labels (`reranker_image.ImageSpec`) still name model and engine; the precision is
then unknown.
"""

from __future__ import annotations

import re

import requests

from weaviate_dev.services.docker import local_images
from weaviate_dev.services.reranker_image.labels import ImageSpec

INFO = "reranker_engine_info"
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def engine_info(url: str, timeout: float = 5) -> dict[str, str] | None:
    """The labels of reranker_engine_info from `url`/metrics; None when it has none."""
    try:
        response = requests.get(f"{url.rstrip('/')}/metrics", timeout=timeout)
    except requests.RequestException:
        return None
    if response.status_code != 200:
        return None
    return parse_info(response.text)


def parse_info(text: str) -> dict[str, str] | None:
    for line in text.splitlines():
        if line.startswith(INFO + "{"):
            labels = line[len(INFO) + 1:line.rindex("}")]
            return {key: re.sub(r"\\(.)", r"\1", value)
                    for key, value in _LABEL.findall(labels)}
    return None


def describe(url: str, image: str | None = None) -> str:
    """"org/name@<commit> (engine openvino, bf16)", from /metrics, else the image's labels."""
    info = engine_info(url)
    if info and info.get("model"):
        return f"{info['model']} (engine {info.get('engine', '?')}, " \
               f"{info.get('precision', '?')})"
    spec = ImageSpec.from_labels(local_images.image_labels(image)) if image else None
    if spec:
        return f"{spec.model} (engine {spec.engine}, precision unknown: no /metrics)"
    return "an unknown model (no /metrics, no weaviate-dev labels on its image)"
