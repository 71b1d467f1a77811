"""A Hugging Face cross-encoder as ONNX graphs: traced, fused, quantised, checked against torch.

Needs torch, transformers, onnx and onnxruntime (the `export` extra): it runs at image build
time (a build stage) or on a developer machine, never in a serving image. `onnx_export` decides
which graph to keep; this module makes and measures them.

The traced graph takes exactly the model's own inputs: those of its tokenizer's
`model_input_names` that its forward pass accepts (`input_ids` and `attention_mask` always;
`token_type_ids` only for families that have them: BERT, ELECTRA, DeBERTa), minus any the
trace finds unused (DeBERTa with `type_vocab_size` 0). Its one output is `logits`
[batch, num_labels], before any activation. A graph whose weights pass protobuf's 2 GB limit
(bge-reranker-v2-m3: 2.27 GB in fp32) keeps them in one file beside it, ``model.onnx_data``.
"""

from __future__ import annotations

import inspect
import json
import shutil
import tempfile
from pathlib import Path

from reranker.engines.onnx_store import EXTERNAL_SUFFIX, FP32_NAME, INT8_NAME

OPSET = 17
# Weights above this go to an external data file (protobuf refuses messages over 2 GiB).
EXTERNAL_DATA_BYTES = 1_800_000_000
# Families whose layers ONNX Runtime's BERT optimizer fuses (Attention, SkipLayerNorm, Gelu).
FUSED_MODEL_TYPES = ("bert", "roberta", "xlm-roberta", "camembert", "electra", "distilbert")
# The check pairs: short and long, empty, multilingual; longer than a ModernBERT window.
CHECK_PAIRS = [("a query", "a document"), ("who wrote dune", "frank herbert wrote dune " * 12),
               ("q", ""), ("a longer query with more words", "dogs"),
               ("Qui a écrit Dune ?", "Frank Herbert a écrit Dune. 東京は日本の首都です。")]


def load_tokenizer(model_dir: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(model_dir))


def load_model(model_dir: Path):
    from transformers import AutoModelForSequenceClassification
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    # Eager attention exports the plain attention pattern that ONNX Runtime fuses into one op.
    return AutoModelForSequenceClassification.from_pretrained(
        str(model_dir), attn_implementation="eager").eval()


def model_inputs(model, tokenizer) -> list[str]:
    """The inputs CrossEncoder feeds this model: its tokenizer's, those its forward takes."""
    accepted = inspect.signature(model.forward).parameters
    return [name for name in tokenizer.model_input_names if name in accepted]


def graph_inputs(path: Path) -> list[str]:
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    initializers = {i.name for i in model.graph.initializer}
    return [i.name for i in model.graph.input if i.name not in initializers]


def export_fp32(model_dir: Path, output: Path, *, first_token: bool = True) -> tuple[Path, bool]:
    """Trace the model once on a small pair, save it with dynamic batch/sequence axes to
    output/model.onnx; returns the path and whether the first-token last layer is in it."""
    import onnx

    output.mkdir(parents=True, exist_ok=True)
    # Traced into a scratch directory: over 2 GB the exporter writes one file per weight,
    # which `save` gathers into one external data file. The torch model is gone by then
    # (a bge-reranker-v2-m3 holds 2.3 GB in each of torch, the trace and onnx).
    with tempfile.TemporaryDirectory(dir=output, prefix=".trace-") as scratch:
        traced = Path(scratch) / FP32_NAME
        rewritten = _trace(model_dir, traced, first_token=first_token)
        save(onnx.load(str(traced)), output / FP32_NAME)
    return output / FP32_NAME, rewritten


def _trace(model_dir: Path, target: Path, *, first_token: bool) -> bool:
    import torch

    from reranker.engines import mean_pooling
    from reranker.engines.first_token import first_token_only

    tokenizer = load_tokenizer(model_dir)
    model = load_model(model_dir)
    rewritten = first_token and first_token_only(model)
    names = model_inputs(model, tokenizer)
    blocked = first_token and mean_pooling.supports(model) and names == ["input_ids",
                                                                          "attention_mask"]
    sample = tokenizer(["a query", "another query"], ["a document", "a longer document here"],
                       padding=True, return_tensors="pt")
    axes = {name: {0: "batch", 1: "sequence"} for name in names}
    axes["logits"] = {0: "batch"}

    class Logits(torch.nn.Module):  # plain tensors in (the model's own inputs), logits out
        def __init__(self, inner) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *tensors):
            if blocked:
                return mean_pooling.logits(self.inner, *tensors)
            return self.inner(**dict(zip(names, tensors))).logits

    with torch.inference_mode():
        torch.onnx.export(Logits(model), tuple(sample[name] for name in names), str(target),
                          input_names=names, output_names=["logits"], dynamic_axes=axes,
                          opset_version=OPSET, do_constant_folding=True, dynamo=False)
    return bool(rewritten)


def weight_bytes(model) -> int:
    return sum(len(t.raw_data) for t in model.graph.initializer)


def save(model, path: Path) -> bool:
    """Write an onnx ModelProto to `path`, its weights into path + "_data" when they are too big
    for one protobuf; returns whether they were."""
    import onnx

    data = path.with_name(path.name + EXTERNAL_SUFFIX)
    data.unlink(missing_ok=True)  # onnx appends to an existing data file
    domains = {opset.domain for opset in model.opset_import}
    if "com.microsoft" not in domains and any(n.domain == "com.microsoft"
                                              for n in model.graph.node):
        model.opset_import.add(domain="com.microsoft", version=1)  # ORT's fused operators
    external = weight_bytes(model) > EXTERNAL_DATA_BYTES
    onnx.save_model(model, str(path), save_as_external_data=external,
                    all_tensors_to_one_file=True, location=data.name, size_threshold=1024)
    return external


def fuse(model_dir: Path, fp32: Path) -> bool:
    """Rewrite `fp32` in place with ONNX Runtime's BERT fusions (Attention, SkipLayerNorm, Gelu).

    Returns False (file untouched) for model types the BERT optimizer does not know.
    """
    from onnxruntime.transformers.optimizer import optimize_model

    config = json.loads((Path(model_dir) / "config.json").read_text())
    model_type = config.get("model_type")
    if model_type not in FUSED_MODEL_TYPES:
        return False
    heads = config.get("num_attention_heads") or config.get("n_heads")
    hidden = config.get("hidden_size") or config.get("dim")
    optimized = optimize_model(str(fp32), model_type="bert", num_heads=int(heads),
                               hidden_size=int(hidden), opt_level=0)
    optimized.topological_sort()
    save(optimized.model, fp32)
    return True


def quantize_int8(fp32: Path, output: Path) -> Path:
    """Dynamic int8 quantization: weights per channel, activations at run time (VNNI on x86).

    Only the weight products (MatMul, fused Attention projections) are quantized; the
    embeddings stay fp32 (a lookup: quantizing it saves bytes, not time, and costs accuracy).
    Weights use 7 of their 8 bits (`reduce_range`): x86 CPUs without VNNI (AVX2, AVX-512 before
    Cascade Lake, AMD before Zen 4) multiply u8 activations by s8 weights with vpmaddubsw,
    which adds two products into a saturating int16 (255 * 127 * 2 > 32767): with full-range
    weights such a CPU returned different, badly ranked scores (correlation 0.10 with the
    reference on the test model, 0.86 on a VNNI CPU). In 7 bits no sum can saturate, and every
    CPU computes the same integers (see reranker/tests/test_int8_cpus.py).
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target = output / INT8_NAME
    external = fp32.with_name(fp32.name + EXTERNAL_SUFFIX).is_file()
    quantize_dynamic(str(fp32), str(target), weight_type=QuantType.QInt8, per_channel=True,
                     reduce_range=True, op_types_to_quantize=["MatMul", "Attention"],
                     use_external_data_format=external,
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    if external:  # quantize_dynamic names the data file itself: gather it under our name
        save(onnx.load(str(target)), target)
        for stray in output.glob(f"{INT8_NAME}.data"):
            stray.unlink()
    return target


def max_diff_to_torch(model_dir: Path, onnx_path: Path) -> float:
    """Largest |logit difference| between the .onnx file and the torch model on CHECK_PAIRS."""
    import numpy as np
    import onnxruntime as ort

    batch, expected = _torch_logits(model_dir)  # the torch model is freed before ORT loads
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    names = {i.name for i in session.get_inputs()}
    [logits] = session.run(["logits"], {k: v for k, v in batch.items() if k in names})
    return float(np.max(np.abs(logits - expected)))


def _torch_logits(model_dir: Path):
    import torch

    tokenizer = load_tokenizer(model_dir)
    model = load_model(model_dir)
    batch = tokenizer([q for q, _ in CHECK_PAIRS], [d for _, d in CHECK_PAIRS], padding=True,
                      truncation=True, return_tensors="pt")
    batch = {name: batch[name] for name in model_inputs(model, tokenizer)}
    with torch.inference_mode():
        expected = model(**batch).logits.numpy()
    return {k: v.numpy() for k, v in batch.items()}, expected


def remove(output: Path, name: str) -> None:
    """Delete a graph and its external data file."""
    (output / name).unlink(missing_ok=True)
    (output / (name + EXTERNAL_SUFFIX)).unlink(missing_ok=True)


def copy(source: Path, target: Path) -> None:
    """Copy a graph with its external data file."""
    shutil.copyfile(source, target)
    data = source.with_name(source.name + EXTERNAL_SUFFIX)
    if data.is_file():
        shutil.copyfile(data, target.with_name(target.name + EXTERNAL_SUFFIX))
