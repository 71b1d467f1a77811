"""Small pure pieces: the healthcheck URL, the download file filter, gunicorn options."""

from __future__ import annotations

import pytest

from reranker.download import wanted_files
from reranker.healthcheck import probe_url
from reranker.serve import bind_address, gunicorn_options
from reranker.settings import Settings


@pytest.mark.parametrize("host, url", [
    ("0.0.0.0", "http://127.0.0.1:8080/.well-known/ready"),
    ("127.0.0.1", "http://127.0.0.1:8080/.well-known/ready"),
    ("::1", "http://[::1]:8080/.well-known/ready"),
])
def test_probe_url(host, url):
    assert probe_url(Settings(host=host)) == url


def test_download_takes_one_set_of_weights_and_no_variants():
    repo = ["config.json", "model.safetensors", "pytorch_model.bin", "tf_model.h5",
            "flax_model.msgpack", "onnx/model.onnx", "openvino/openvino_model.xml",
            "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt",
            "README.md", ".gitattributes", "train_script.py"]
    assert wanted_files(repo) == ["config.json", "model.safetensors", "special_tokens_map.json",
                                  "tokenizer.json", "tokenizer_config.json", "train_script.py",
                                  "vocab.txt"]


def test_download_falls_back_to_bin_weights():
    assert "pytorch_model.bin" in wanted_files(["config.json", "pytorch_model.bin"])


def test_gunicorn_runs_threaded_workers():
    options = gunicorn_options(Settings(host="::", port=9, workers=2, threads=5))
    assert options["bind"] == ["[::]:9"]
    assert (options["worker_class"], options["workers"], options["threads"]) == ("gthread", 2, 5)
    assert bind_address("0.0.0.0", 8080) == "0.0.0.0:8080"
