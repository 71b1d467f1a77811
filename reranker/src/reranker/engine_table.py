"""The engine table: every engine's name, factory and extra, and which engine is the default.

`engine_table.json` beside this module is the one list of engines. An engine's `factory`
("module:attr.attr", called with `Settings`) is what the server builds it with
(`reranker.engine`); its `extra` of reranker/pyproject.toml installs what it imports (the image
installs `requirements/<extra>.txt`, that extra's locked requirements, exported from uv.lock by
`make lock`); `default` is the engine of `ENGINE` unset and of the image's ENGINE build arg.
The toolkit (`weaviate_dev.settings`) reads the same file as data. This module is also a script
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
# engine name -> "module:factory" / -> the extra that installs what it imports.
FACTORIES: dict[str, str] = {name: row["factory"] for name, row in _TABLE["engines"].items()}
EXTRAS: dict[str, str] = {name: row["extra"] for name, row in _TABLE["engines"].items()}


def extra_of(engine: str) -> str:
    if engine not in EXTRAS:
        raise SystemExit(f"ENGINE={engine!r}: not an engine the image knows "
                         f"({', '.join(EXTRAS)})")
    return EXTRAS[engine]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extra-of", metavar="ENGINE", required=True,
                        help="print the extra of this engine")
    args = parser.parse_args(argv)
    print(extra_of(args.extra_of))
    return 0


if __name__ == "__main__":
    sys.exit(main())
