"""The bench reads what our engine computes in from the engine's own start line."""

from bench.server import precision_in


def test_the_precision_is_the_engines_own_report():
    assert precision_in("x\n... openvino engine: /m/onnx/model.onnx (bert: ...), bf16, 2 threads, "
                        "2 streams\n") == "bf16"
    assert precision_in("bf16 does not rank like fp32 on this model (...): computing in fp32\n"
                        "openvino engine: /m/model.onnx (xlm-roberta: ...), fp32, 2 threads") \
        == "fp32"
    assert precision_in("loading engine 'torch'\nmodel loaded in 3.1 s\n") == "fp32"
