"""The engine table: every engine's name, factory and extra, and which engine is the default.

`engine_table.json` beside this module is the one list of engines. An engine's `factory`
("module:attr.attr", called with `Settings`) is what the server builds it with
(`reranker.engine`); its `extra` of reranker/pyproject.toml installs what it imports (the image
installs `requirements/<extra>.txt`, that extra's locked requirements, exported from uv.lock by
`make lock`), and `imports` names the module that tells whether that extra is installed;
`onnx_file` is the file of the model's ONNX export (`onnx/...`) an engine runs; `cuda` engines
can run on CUDA.
`default` is the fastest engine that passes the parity bar (docs/bench.md): the image's ENGINE
build arg and the toolkit's default. `ENGINE` unset in `python -m reranker` takes the first
engine of `preference` whose extra is installed (`installed_default`).
The toolkit (`weaviate_dev.core.settings`) reads the same file as data. This module is also a script
for the image build, which has only it and the table at that point:

    python3 engine_table.py --extra-of onnx-int8   # prints the extra's name: onnx

Standard library only.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

TABLE_FILE = Path(__file__).resolve().with_name("engine_table.json")

_TABLE = json.loads(TABLE_FILE.read_text())
DEFAULT_ENGINE: str = _TABLE["default"]
PREFERENCE: tuple[str, ...] = tuple(_TABLE["preference"])
# engine name -> "module:factory" / -> the extra that installs what it imports.
FACTORIES: dict[str, str] = {name: row["factory"] for name, row in _TABLE["engines"].items()}
EXTRAS: dict[str, str] = {name: row["extra"] for name, row in _TABLE["engines"].items()}
IMPORTS: dict[str, str] = {name: row["imports"] for name, row in _TABLE["engines"].items()}
# engine name -> the file of MODEL_DIR/onnx it runs, for the engines that run an ONNX export.
ONNX_FILES: dict[str, str] = {name: row["onnx_file"] for name, row in _TABLE["engines"].items()
                              if row.get("onnx_file")}
CUDA_ENGINES: frozenset[str] = frozenset(
    name for name, row in _TABLE["engines"].items() if row.get("cuda"))


def installed_default(cuda: bool = False) -> str:
    """The first engine of the preference (only those that run on CUDA, with `cuda`) whose
    extra is installed; else the first candidate, whose missing package the server names."""
    import importlib.util

    candidates = [name for name in PREFERENCE if not cuda or name in CUDA_ENGINES]
    for name in candidates:
        if importlib.util.find_spec(IMPORTS[name]) is not None:
            return name
    return candidates[0]


def extra_of(engine: str) -> str:
    if engine not in EXTRAS:
        raise SystemExit(f"ENGINE={engine!r}: not an engine the image knows "
                         f"({', '.join(EXTRAS)})")
    return EXTRAS[engine]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--extra-of", metavar="ENGINE", help="print the extra of this engine")
    group.add_argument("--onnx-file", metavar="ENGINE",
                       help="exit 0 when this engine runs the exported onnx/model.onnx")
    args = parser.parse_args(argv)
    if args.onnx_file:
        extra_of(args.onnx_file)  # an unknown engine is refused with the list
        return 0 if args.onnx_file in ONNX_FILES else 1
    print(extra_of(args.extra_of))
    return 0


if __name__ == "__main__":
    sys.exit(main())
