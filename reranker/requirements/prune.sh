#!/bin/sh
# prune.sh: remove from /opt/venv what no engine of this image loads (after install.sh).
# numpy's own test suite (17 MB). OpenVINO's wheel carries every device plugin and model
# frontend; our engines read an ONNX file on the CPU, so the GPU/NPU plugins, their kernel
# cache, the other frontends (TF, TF Lite, PyTorch, Paddle, JAX, GGUF) and the C++ headers go:
# about 80 MB of a ~180 MB wheel.
set -eu
find /opt/venv/lib/python3*/site-packages/numpy -type d -name tests -prune -exec rm -rf {} +
openvino=$(ls -d /opt/venv/lib/python3*/site-packages/openvino 2>/dev/null || true)
if [ -n "$openvino" ]; then
    rm -rf "$openvino/include" "$openvino/libs/cache.json"
    for lib in intel_gpu_plugin intel_npu_plugin tensorflow_frontend tensorflow_lite_frontend \
               pytorch_frontend paddle_frontend jax_frontend gguf_frontend; do
        rm -f "$openvino"/libs/libopenvino_"$lib".so*
    done
fi
