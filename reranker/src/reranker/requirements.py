"""Which packages an engine needs: an extra of reranker/pyproject.toml, by engine name.

The image installs `requirements/<extra>.txt`, that extra's locked requirements (exported from
the project's uv.lock by `make lock`, with hashes). Also a script for the image build, which
has only this file at that point:

    python3 requirements.py --extra-of onnx-int8   # prints the extra's name: onnx

Standard library only.
"""

from __future__ import annotations

import argparse
import sys

# engine name -> the extra that installs what it imports (pip install "reranker[extra]").
EXTRAS: dict[str, str] = {"torch": "torch", "torch-batched": "torch", "torch-bf16": "torch",
                          "onnx": "onnx", "onnx-int8": "onnx"}


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
