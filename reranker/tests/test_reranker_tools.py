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


def test_an_onnx_engine_takes_the_repositorys_onnx_export_instead_of_the_weights():
    repo = ["config.json", "model.safetensors", "onnx/model.onnx", "onnx/model_qint8_avx512.onnx",
            "openvino/openvino_model.xml", "tokenizer.json", "vocab.txt", "README.md"]
    assert wanted_files(repo, onnx=True) == ["config.json", "onnx/model.onnx", "tokenizer.json",
                                             "vocab.txt"]
    # no export published: the weights, to export at build time
    assert "model.safetensors" in wanted_files(repo[:2] + repo[5:], onnx=True)


def test_a_repositorys_export_over_2_gb_comes_with_its_data_file():
    repo = ["config.json", "model.safetensors", "onnx/model.onnx", "onnx/model.onnx_data",
            "onnx/model_fp16.onnx", "sentencepiece.bpe.model", "tokenizer.json"]
    assert wanted_files(repo, onnx=True) == ["config.json", "onnx/model.onnx",
                                             "onnx/model.onnx_data", "sentencepiece.bpe.model",
                                             "tokenizer.json"]


def test_download_falls_back_to_bin_weights():
    assert "pytorch_model.bin" in wanted_files(["config.json", "pytorch_model.bin"])


def test_gunicorn_runs_threaded_workers():
    options = gunicorn_options(Settings(host="::", port=9, workers=2, threads=5))
    assert options["bind"] == ["[::]:9"]
    assert (options["worker_class"], options["workers"], options["threads"]) == (
        "reranker.worker.ProbeLaneWorker", 2, 5)
    from gunicorn.util import load_class
    from gunicorn.workers.gthread import ThreadWorker

    assert issubclass(load_class(options["worker_class"]), ThreadWorker)
    assert bind_address("0.0.0.0", 8080) == "0.0.0.0:8080"


def test_download_copies_a_local_model(tmp_path, tiny_model_dir):
    from reranker import download

    out = tmp_path / "out"
    assert download.main(["--local-dir", str(tiny_model_dir), "--output", str(out)]) == 0
    assert (out / "config.json").is_file()
    with pytest.raises(SystemExit, match="not a model directory"):
        download.main(["--local-dir", str(tmp_path), "--output", str(tmp_path / "x")])
