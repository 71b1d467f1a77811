"""Fetch a cross-encoder into a directory at image build time (or take a local one).

Runs as a plain script too (`python download.py ...`): the Dockerfile copies only this file,
so that the model layer does not depend on the rest of the source. It downloads only what
the engine needs: config and tokenizer, and one set of torch weights (not the OpenVINO/TF/Flax
variants many model repositories also carry) or, with `--onnx` (an engine of an ONNX export),
the repository's own `onnx/model.onnx` (with `onnx/model.onnx_data`, where its weights pass
2 GB) instead of the weights when it publishes one, so that the build needs no torch to
export; the graph may take any of the model's inputs (XLM-RoBERTa's: no token_type_ids). The image build then runs
`python -m reranker --check`, which loads the result with the image's engine and scores one
pair, so a broken model fails the build instead of the container.

    python -m reranker.download --model-name cross-encoder/ms-marco-MiniLM-L-6-v2 --output DIR
    python -m reranker.download --model-name cross-encoder/ms-marco-MiniLM-L-6-v2 --onnx ...
    python -m reranker.download --local-dir models/local --output DIR
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

# Top-level files worth having; weights are chosen separately (safetensors over .bin).
WANTED_SUFFIXES = (".json", ".txt", ".model", ".py")
SKIPPED = {"README.md", ".gitattributes"}
ONNX_EXPORT = "onnx/model.onnx"  # where model repositories publish their fp32 ONNX export
ONNX_DATA = ONNX_EXPORT + "_data"  # its weights, beside it, when they pass 2 GB


def wanted_files(names: list[str], *, onnx: bool = False) -> list[str]:
    """The files of a model repository that the engine loads: with `onnx`, the repository's
    own ONNX export instead of the torch weights when there is one."""
    top = [n for n in names if "/" not in n and n not in SKIPPED]
    if onnx and ONNX_EXPORT in names:
        export = {ONNX_EXPORT} | ({ONNX_DATA} & set(names))
        return sorted({n for n in top if n.endswith(WANTED_SUFFIXES)
                       and not n.endswith(".index.json")} | export)
    weights: list[str] = []
    if "model.safetensors" in top or "model.safetensors.index.json" in top:
        weights = [n for n in top if n.endswith(".safetensors") or n.endswith(".safetensors.index.json")]
    else:
        weights = [n for n in top if n.startswith("pytorch_model") and
                   (n.endswith(".bin") or n.endswith(".bin.index.json"))]
    others = [n for n in top if n.endswith(WANTED_SUFFIXES) and n not in weights]
    return sorted(set(others + weights))


def download(model_name: str, output: Path, *, onnx: bool = False) -> None:
    from huggingface_hub import HfApi, hf_hub_download

    files = wanted_files(HfApi().list_repo_files(model_name), onnx=onnx)
    if "config.json" not in files:
        raise SystemExit(f"{model_name} has no config.json; is it a transformers model?")
    print(f"downloading {model_name}: {', '.join(files)}", flush=True)
    output.mkdir(parents=True, exist_ok=True)
    for name in files:
        hf_hub_download(model_name, name, local_dir=str(output))
    shutil.rmtree(output / ".cache", ignore_errors=True)  # huggingface_hub's bookkeeping


def copy_local(source: Path, output: Path) -> None:
    if not (source / "config.json").is_file():
        raise SystemExit(f"{source} is not a model directory (no config.json)")
    print(f"copying the local model {source}", flush=True)
    shutil.copytree(source, output, dirs_exist_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-name", default="", help="Hugging Face model id to download")
    parser.add_argument("--local-dir", default="",
                        help="a model directory to copy instead (wins over --model-name)")
    parser.add_argument("--output", required=True, type=Path)
    parser.add_argument("--onnx", action="store_true",
                        help="take the repository's onnx/model.onnx instead of its torch weights "
                             "when it publishes one (engines of an ONNX export)")
    args = parser.parse_args(argv)
    if args.local_dir:
        copy_local(Path(args.local_dir), args.output)
    elif args.model_name:
        # Plain HTTPS downloads honour the CA bundle of a proxy; the Xet transport may not.
        os.environ.setdefault("HF_HUB_DISABLE_XET", "1")
        download(args.model_name, args.output, onnx=args.onnx)
    else:
        parser.error("give --model-name or --local-dir")
    return 0


if __name__ == "__main__":
    sys.exit(main())
