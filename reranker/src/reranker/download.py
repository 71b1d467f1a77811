"""Fetch a cross-encoder into a directory, pinned to one commit (or take a local one).

Runs as a plain script too (`python download.py ...`): the Dockerfile copies only this file,
so that the model layer does not depend on the rest of the source (an image built with
MODEL_NAME downloads in its build; `weaviate-dev` downloads on the host instead, into the
Hugging Face cache, and takes `wanted_files` and the digests from here). Standard library at
import; huggingface_hub only when downloading.

A hub model is resolved to a commit first (`--revision`, a branch, tag or commit; default
`main`), and every file comes from that commit (`snapshot_download(revision=<commit>,
allow_patterns=...)`): a push between two files cannot mix revisions, and two builds of one
Dockerfile with the same `--revision` commit bake the same bytes. `HF_TOKEN` (read by
huggingface_hub from the environment) reaches gated or private models.

It downloads only what the engine needs: config and tokenizer, and one set of torch weights
(not the OpenVINO/TF/Flax variants many model repositories also carry) or, with `--onnx` (an
engine of an ONNX export), the repository's own `onnx/model.onnx` (with
`onnx/model.onnx_data`, where its weights pass 2 GB) instead of the weights when it publishes
one, so that the build needs no torch to export. `--info FILE` writes what was fetched (the
model id and commit, or the directory and a digest of its files) as JSON: the image keeps it,
and the server names it in its start line. The image build then runs `python -m reranker
--check`, which loads the result with the image's engine and scores one pair.

    python download.py --model-name cross-encoder/ms-marco-MiniLM-L-6-v2 --output DIR
    python download.py --model-name BAAI/bge-reranker-v2-m3 --revision 953dc6f --onnx ...
    python download.py --local-dir models/local --output DIR --info model-info.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

# Top-level files worth having; weights are chosen separately (safetensors over .bin).
WANTED_SUFFIXES = (".json", ".txt", ".model", ".py")
SKIPPED = {"README.md", ".gitattributes"}
ONNX_EXPORT = "onnx/model.onnx"  # where model repositories publish their fp32 ONNX export
ONNX_DATA = ONNX_EXPORT + "_data"  # its weights, beside it, when they pass 2 GB
BLOCK = 1 << 20


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


def file_digest(path: Path) -> str:
    """sha256 of one file's bytes, read in 1 MB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def combine(digests: dict[str, str]) -> str:
    """One sha256 for a set of files, from their relative names and their own digests."""
    listing = "".join(f"{name}\0{digests[name]}\n" for name in sorted(digests))
    return hashlib.sha256(listing.encode()).hexdigest()


def tree_digest(root: Path, names: list[str] | None = None) -> str:
    """The digest of `names` under root (default: every file, recursively)."""
    root = Path(root)
    if names is None:
        names = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    return combine({name: file_digest(root / name) for name in names})


def resolve(model_name: str, revision: str | None) -> tuple[str, list[str]]:
    """(commit, file names) of `model_name` at `revision` (default main)."""
    from huggingface_hub import HfApi

    info = HfApi().model_info(model_name, revision=revision or "main")
    return info.sha, [sibling.rfilename for sibling in info.siblings or []]


def download(model_name: str, output: Path, *, onnx: bool = False,
             revision: str | None = None) -> dict:
    """Every wanted file of one commit into `output`; what was fetched, for --info."""
    from huggingface_hub import snapshot_download

    commit, names = resolve(model_name, revision)
    files = wanted_files(names, onnx=onnx)
    if "config.json" not in files:
        raise SystemExit(f"{model_name} has no config.json; is it a transformers model?")
    print(f"downloading {model_name}@{commit}: {', '.join(files)}", flush=True)
    output.mkdir(parents=True, exist_ok=True)
    snapshot_download(model_name, revision=commit, allow_patterns=files, local_dir=str(output))
    shutil.rmtree(output / ".cache", ignore_errors=True)  # huggingface_hub's bookkeeping
    return {"model": model_name, "revision": commit,
            "description": f"{model_name}@{commit}"}


def copy_local(source: Path, output: Path, description: str = "") -> dict:
    if not (source / "config.json").is_file():
        raise SystemExit(f"{source} is not a model directory (no config.json)")
    if Path(source).resolve() != Path(output).resolve():  # the image build copies it in place
        print(f"copying the local model {source}", flush=True)
        shutil.copytree(source, output, dirs_exist_ok=True)
    digest = tree_digest(output)
    return {"model": str(source), "sha256": digest,
            "description": description or f"directory {source} (sha256 {digest[:12]})"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-name", default="", help="Hugging Face model id to download")
    parser.add_argument("--revision", default="",
                        help="a branch, tag or commit of --model-name (default main); the "
                             "files all come from the commit it names at the start")
    parser.add_argument("--local-dir", default="",
                        help="a model directory to copy instead (wins over --model-name); "
                             "the same as --output: only described")
    parser.add_argument("--output", required=True, type=Path)
    parser.add_argument("--onnx", action="store_true",
                        help="take the repository's onnx/model.onnx instead of its torch weights "
                             "when it publishes one (engines of an ONNX export)")
    parser.add_argument("--info", type=Path, help="write what was fetched here (JSON)")
    parser.add_argument("--describe", default="",
                        help="with --local-dir: how --info names the model (default: the "
                             "directory and a digest of its files)")
    args = parser.parse_args(argv)
    if args.local_dir:
        info = copy_local(Path(args.local_dir), args.output, args.describe)
    elif args.model_name:
        # Plain HTTPS downloads honour the CA bundle of a proxy; the Xet transport may not.
        os.environ.setdefault("HF_HUB_DISABLE_XET", "1")
        from huggingface_hub.errors import GatedRepoError, HfHubHTTPError

        try:
            info = download(args.model_name, args.output, onnx=args.onnx,
                            revision=args.revision or None)
        except HfHubHTTPError as exc:  # the hub's own words, in one line (no traceback)
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            gated = isinstance(exc, GatedRepoError) and not os.environ.get("HF_TOKEN")
            raise SystemExit(f"download of {args.model_name}: {type(exc).__name__}: {first}"
                             + (" (a gated model needs HF_TOKEN of an account with access)"
                                if gated else "")) from None
    else:
        parser.error("give --model-name or --local-dir")
    if args.info:
        args.info.write_text(json.dumps(info, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
