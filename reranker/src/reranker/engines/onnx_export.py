"""Export a Hugging Face cross-encoder to ONNX (fp32, and an int8 dynamically quantized copy).

Needs torch and transformers, so it runs where they are: at image build time (a build stage)
or on a developer machine. The ONNX engines then need only onnxruntime and tokenizers.

    python -m reranker.engines.onnx_export MODEL_DIR [--output MODEL_DIR/onnx]
    python -m reranker.engines.onnx_export MODEL_DIR --engine onnx [--is-current]

writes ``model.onnx`` (fp32, BERT ops fused by ONNX Runtime's optimizer, the last layer run
for the first token only: `reranker.engines.first_token`) and ``model_int8.onnx`` (int8
weights, dynamic activations) into the output directory. Inputs: input_ids, attention_mask,
token_type_ids (int64, [batch, sequence]); output: logits [batch, num_labels] before any
activation. The fp32 file is checked against the untouched torch model on padded pairs of
several lengths (|diff| <= 1e-4); if the first-token rewrite misses that, the full model is
exported instead. With ``--engine`` (the image build) MODEL_DIR/onnx is made to hold exactly
the file that engine runs: a current export is kept as it is (no torch needed), otherwise the
model is exported; ``--is-current`` only answers whether an export is needed (exit 0: no).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from reranker.engine_table import ONNX_FILES

FP32_NAME = "model.onnx"
INT8_NAME = "model_int8.onnx"
OPSET = 17
TOLERANCE = 1e-4
# Bump when the exported graph changes, so old files are redone (2: the first-token last
# layer; 3: int8 weights in 7 bits, the same scores on every x86 CPU).
RECIPE = 3
STAMP = "export.json"
WEIGHT_SUFFIXES = (".safetensors", ".bin")
# The file each engine of an ONNX export runs (the engine table's `onnx_file`).
ENGINE_FILES = ONNX_FILES
CHECK_PAIRS = [("a query", "a document"), ("who wrote dune", "frank herbert wrote dune " * 12),
               ("q", ""), ("a longer query with more words", "dogs")]


def default_output(model_dir: Path) -> Path:
    return Path(model_dir) / "onnx"


def source_fingerprint(model_dir: Path) -> str | None:
    """A hash of the recipe, config.json and the weight files; None when the weights are absent.

    (An image ships the .onnx file without the torch weights: then there is nothing to compare.)
    """
    import hashlib

    model_dir = Path(model_dir)
    weights = sorted(p for p in model_dir.iterdir()
                     if p.is_file() and p.name.endswith(WEIGHT_SUFFIXES))
    if not weights:
        return None
    digest = hashlib.sha256(f"recipe {RECIPE}\n".encode())
    for path in [model_dir / "config.json", *weights]:
        digest.update(path.name.encode())
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def is_current(onnx_dir: Path, source: str | None) -> bool:
    """Whether the files in `onnx_dir` were exported, by this recipe, from the weights whose
    `source_fingerprint` is `source` (None: no weights to compare with, as in the image)."""
    if source is None:
        return True
    try:
        stamp = json.loads((Path(onnx_dir) / STAMP).read_text())
    except (OSError, ValueError):
        return False
    return stamp.get("source") == source


def load_model(model_dir: Path):
    from transformers import AutoModelForSequenceClassification

    # Eager attention exports the plain BERT pattern that ONNX Runtime fuses into one op.
    return AutoModelForSequenceClassification.from_pretrained(
        str(model_dir), attn_implementation="eager").eval()


def export_fp32(model_dir: Path, output: Path, *, first_token: bool = True) -> Path:
    """Trace the model once on a small pair and save it with dynamic batch/sequence axes."""
    import torch
    from transformers import AutoTokenizer

    from reranker.engines.first_token import first_token_only

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = load_model(model_dir)
    if first_token:
        first_token_only(model)
    sample = tokenizer(["a query", "another query"], ["a document", "a longer document here"],
                       padding=True, return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    args = tuple(sample[name] for name in names)
    axes = {name: {0: "batch", 1: "sequence"} for name in names}
    axes["logits"] = {0: "batch"}
    output.mkdir(parents=True, exist_ok=True)
    target = output / FP32_NAME

    class Logits(torch.nn.Module):  # plain tensors in, the logits tensor out
        def __init__(self, inner) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).logits

    with torch.inference_mode():
        torch.onnx.export(Logits(model), args, str(target), input_names=names,
                          output_names=["logits"], dynamic_axes=axes, opset_version=OPSET,
                          do_constant_folding=True, dynamo=False)
    return target


def fuse(model_dir: Path, fp32: Path) -> bool:
    """Rewrite `fp32` in place with ONNX Runtime's BERT fusions (Attention, SkipLayerNorm, Gelu).

    Returns False (file untouched) for models the BERT optimizer does not know.
    """
    from onnxruntime.transformers.optimizer import optimize_model

    config = json.loads((Path(model_dir) / "config.json").read_text())
    if config.get("model_type") not in ("bert", "roberta", "xlm-roberta", "distilbert"):
        return False
    model_type = "bert" if config["model_type"] != "distilbert" else "distilbert"
    optimized = optimize_model(str(fp32), model_type=model_type,
                               num_heads=int(config["num_attention_heads"]),
                               hidden_size=int(config["hidden_size"]), opt_level=0)
    optimized.save_model_to_file(str(fp32))
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
    quantize_dynamic(str(fp32), str(target), weight_type=QuantType.QInt8, per_channel=True,
                     reduce_range=True, op_types_to_quantize=["MatMul", "Attention"],
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    return target


def max_diff_to_torch(model_dir: Path, onnx_path: Path) -> float:
    """Largest |logit difference| between the .onnx file and the torch model on CHECK_PAIRS."""
    import numpy as np
    import onnxruntime as ort
    import torch
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    batch = tokenizer([q for q, _ in CHECK_PAIRS], [d for _, d in CHECK_PAIRS], padding=True,
                      truncation=True, return_tensors="pt")
    with torch.inference_mode():
        expected = load_model(model_dir)(**batch).logits.numpy()
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    names = {i.name for i in session.get_inputs()}
    [logits] = session.run(["logits"], {k: v.numpy() for k, v in batch.items() if k in names})
    return float(np.max(np.abs(logits - expected)))


def export(model_dir: Path, output: Path | None = None, *, int8: bool = True) -> Path:
    """Write the ONNX model(s) for `model_dir`; returns the output directory."""
    model_dir = Path(model_dir)
    output = Path(output) if output else default_output(model_dir)
    for first_token in (True, False):
        fp32 = export_fp32(model_dir, output, first_token=first_token)
        fuse(model_dir, fp32)
        diff = max_diff_to_torch(model_dir, fp32)
        if diff <= TOLERANCE:
            break
        print(f"onnx export (first-token last layer: {first_token}) differs from the torch "
              f"model by {diff:.2e} > {TOLERANCE}", file=sys.stderr)
    else:
        raise RuntimeError(f"the ONNX export of {model_dir} does not match the torch model")
    if int8:
        quantize_int8(fp32, output)
    stamp = {"recipe": RECIPE, "source": source_fingerprint(model_dir), "first_token": first_token}
    (output / STAMP).write_text(json.dumps(stamp) + "\n")
    return output


def is_current_file(model_dir: Path, name: str) -> bool:
    """Whether MODEL_DIR/onnx/name exists and was exported from the weights beside it."""
    onnx_dir = default_output(model_dir)
    return (onnx_dir / name).is_file() and is_current(onnx_dir, source_fingerprint(model_dir))


def prepare_for_engine(model_dir: Path, engine: str) -> Path:
    """Make MODEL_DIR/onnx hold exactly the file `engine` runs (exporting only when needed).

    A model repository's own export (no stamp of ours, e.g. the hub's onnx/model.onnx next to
    no weights) is used without torch; where ONNX Runtime is installed its BERT operators are
    fused first (OpenVINO fuses by itself).
    """
    import importlib.util

    name = ENGINE_FILES[engine]
    onnx_dir = default_output(model_dir)
    if not is_current_file(model_dir, name):
        export(model_dir, onnx_dir, int8=name == INT8_NAME)
    elif (name == FP32_NAME and not (onnx_dir / STAMP).exists()
          and importlib.util.find_spec("onnxruntime") and fuse(model_dir, onnx_dir / name)):
        stamp = {"recipe": RECIPE, "source": None, "first_token": False, "origin": "repository"}
        (onnx_dir / STAMP).write_text(json.dumps(stamp) + "\n")
    for other in set(ENGINE_FILES.values()) - {name}:
        (onnx_dir / other).unlink(missing_ok=True)
    return onnx_dir / name


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reranker.engines.onnx_export",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("--output", type=Path, default=None,
                        help="directory for the .onnx files (default MODEL_DIR/onnx)")
    parser.add_argument("--no-int8", action="store_true", help="skip the int8 copy")
    parser.add_argument("--engine", choices=sorted(ENGINE_FILES),
                        help="leave MODEL_DIR/onnx holding exactly the file this engine runs")
    parser.add_argument("--is-current", action="store_true",
                        help="with --engine: exit 0 when no export is needed, 1 otherwise")
    args = parser.parse_args(argv)
    if args.is_current:
        if not args.engine:
            parser.error("--is-current needs --engine")
        return 0 if is_current_file(args.model_dir, ENGINE_FILES[args.engine]) else 1
    if args.engine:
        print(prepare_for_engine(args.model_dir, args.engine))
        return 0
    print(export(args.model_dir, args.output, int8=not args.no_int8))
    return 0


if __name__ == "__main__":
    sys.exit(main())
