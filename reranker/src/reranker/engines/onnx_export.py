"""Export a Hugging Face cross-encoder to ONNX (fp32, and an int8 dynamically quantized copy).

Needs torch and transformers, so it runs where they are: at image build time (a build stage)
or on a developer machine. The ONNX engines then need only a runtime and tokenizers.

    python -m reranker.engines.onnx_export MODEL_DIR [--output MODEL_DIR/onnx]
    python -m reranker.engines.onnx_export MODEL_DIR --engine onnx [--is-current]

writes ``model.onnx`` (fp32, the model's own inputs, BERT-family ops fused by ONNX Runtime's
optimizer, the last layer run for the first token only where the family allows:
`reranker.engines.first_token`; ``model.onnx_data`` beside it over 2 GB), ``model_int8.onnx``
(int8 weights, dynamic activations) and the stamp ``export.json`` (which graph, from which
weights) into the output directory: see `onnx_graph` and `onnx_store`. The fp32 file is checked
against the untouched torch model on padded pairs of several lengths (|diff| <= 1e-4); if the
first-token rewrite misses that, the whole graph is exported, and unfused if need be. With
``--engine`` (the image build) MODEL_DIR/onnx is made to hold exactly the file that engine
runs: a current export is kept as it is (no torch needed), otherwise the model is exported;
``--is-current`` only answers whether an export is needed (exit 0: no; 1: yes; 2: it cannot
be made, the reason in one line: checked before the build installs torch for it). A model no ONNX engine
can run (remote code, an architecture transformers does not know, an export that fails or
does not match) is refused with one line naming the architecture and ENGINE=torch.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

from reranker import architecture
from reranker.engine import EngineError
from reranker.engine_table import ONNX_FILES
from reranker.engines.onnx_store import (
    FP32_NAME,
    INT8_NAME,
    is_current,
    read_stamp,
    shipped_dir,
    source_fingerprint,
    write_stamp,
)

TOLERANCE = 1e-4
# The file each engine of an ONNX export runs (the engine table's `onnx_file`).
ENGINE_FILES = ONNX_FILES


class ExportError(EngineError):
    """The model cannot be run by an ONNX engine; the message is one line saying so."""


def default_output(model_dir: Path) -> Path:
    return shipped_dir(model_dir)


def refusal(config: dict, reason: str) -> ExportError:
    return ExportError(f"{architecture.name(config)} cannot run on the ONNX engines: {reason}; "
                       "serve it with ENGINE=torch (the CrossEncoder)")


def check_exportable(model_dir: Path) -> dict:
    """config.json, if an export can be tried; EngineError (one line) if it cannot."""
    config = architecture.read_config(model_dir)
    architecture.require_known(config)
    return config


def export(model_dir: Path, output: Path | None = None, *, int8: bool = True) -> Path:
    """Write the ONNX model(s) for `model_dir`; returns the output directory."""
    from reranker.engines import onnx_graph

    model_dir = Path(model_dir)
    output = Path(output) if output else default_output(model_dir)
    config = check_exportable(model_dir)
    misses = []
    for first_token, fused in ((True, True), (False, True), (False, False)):
        try:
            # A family without the first-token rewrite gets the whole graph at once.
            fp32, rewritten = onnx_graph.export_fp32(model_dir, output, first_token=first_token)
            fused = fused and onnx_graph.fuse(model_dir, fp32)
            diff = onnx_graph.max_diff_to_torch(model_dir, fp32)
        except Exception as exc:  # noqa: BLE001 - any failure of the tools is reported in one line
            detail = (str(exc).strip().splitlines() or [""])[0][:200]
            raise refusal(config, f"its ONNX export failed ({type(exc).__name__}: "
                                  f"{detail})") from exc
        if diff <= TOLERANCE:
            break
        misses.append(f"{diff:.1e}")
        print(f"onnx export (first-token last layer: {rewritten}, fused: {fused}) differs "
              f"from the torch model by {diff:.2e} > {TOLERANCE}", file=sys.stderr)
    else:
        raise refusal(config, f"its ONNX export does not match the torch model (max |diff| "
                              f"{', '.join(misses)} > {TOLERANCE})")
    if int8:
        onnx_graph.quantize_int8(fp32, output)
    else:
        onnx_graph.remove(output, INT8_NAME)
    data = [name for name in (FP32_NAME, INT8_NAME)
            if (output / (name + "_data")).is_file()]
    write_stamp(output, {"source": source_fingerprint(model_dir),
                         "model_type": config.get("model_type"),
                         "architecture": architecture.name(config),
                         "inputs": onnx_graph.graph_inputs(fp32), "first_token": rewritten,
                         "fused": fused, "max_diff": diff, "external_data": data})
    return output


def describe(onnx_dir: Path) -> str:
    """What the stamp says of a graph, for the start log: its family, layer and inputs."""
    stamp = read_stamp(onnx_dir)
    if not stamp:
        return "an export without our stamp (the model repository's own)"
    layer = ("the last layer for the first token only" if stamp.get("first_token")
             else "the whole graph")
    inputs = ", ".join(stamp.get("inputs") or []) or "inputs not recorded"
    return f"{stamp.get('model_type') or 'a model'}: {layer}; inputs {inputs}"


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
    from reranker.engines import onnx_graph

    name = ENGINE_FILES[engine]
    onnx_dir = default_output(model_dir)
    if not is_current_file(model_dir, name):
        export(model_dir, onnx_dir, int8=name == INT8_NAME)
    elif (name == FP32_NAME and read_stamp(onnx_dir) is None
          and importlib.util.find_spec("onnxruntime") and onnx_graph.fuse(model_dir,
                                                                          onnx_dir / name)):
        write_stamp(onnx_dir, {"source": None, "first_token": False, "fused": True,
                               "origin": "repository", "inputs": onnx_graph.graph_inputs(
                                   onnx_dir / name)})
    for other in set(ENGINE_FILES.values()) - {name}:
        onnx_graph.remove(onnx_dir, other)
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
        if is_current_file(args.model_dir, ENGINE_FILES[args.engine]):
            return 0
        try:
            architecture.refuse_remote_code(architecture.read_config(args.model_dir))
        except EngineError as exc:
            print(f"onnx export: {exc}", file=sys.stderr)
            return 2
        return 1
    try:
        if args.engine:
            path = prepare_for_engine(args.model_dir, args.engine)
            print(f"{path}: {describe(path.parent)}")
        else:
            print(export(args.model_dir, args.output, int8=not args.no_int8))
    except EngineError as exc:
        print(f"onnx export: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
