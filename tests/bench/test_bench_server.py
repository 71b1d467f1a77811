"""The bench reads what our engine computes in from the engine's own start line."""

import pytest

from bench.server import engine_spec, precision_in, precision_of_metrics


def test_the_precision_is_the_engines_own_report():
    assert precision_in("x\n... openvino engine: /m/onnx/model.onnx (bert: ...), bf16, 2 threads, "
                        "2 streams\n") == "bf16"
    assert precision_in("bf16 does not rank like fp32 on this model (...): computing in fp32\n"
                        "openvino engine: /m/model.onnx (xlm-roberta: ...), fp32, 2 threads") \
        == "fp32"
    assert precision_in("loading engine 'torch'\nmodel loaded in 3.1 s\n") == "fp32"


def test_an_engine_spec_carries_settings():
    assert engine_spec("openvino") == ("openvino", {})
    assert engine_spec("openvino,METRICS=off,WORKERS=2") == ("openvino",
                                                            {"METRICS": "off", "WORKERS": "2"})
    with pytest.raises(SystemExit, match=r"ENGINE\[,KEY=VALUE"):
        engine_spec("openvino,METRICS")


def test_a_running_reranker_says_its_precision_on_metrics():
    text = ('# HELP reranker_engine_info The engine that serves\n'
            'reranker_engine_info{engine="openvino",model="m",model_type="bert",'
            'precision="bf16"} 1.0\n')
    assert precision_of_metrics(text) == "bf16"
    assert precision_of_metrics("# an official app has no /metrics\n") is None
