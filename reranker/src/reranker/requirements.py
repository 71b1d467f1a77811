"""Which packages an engine needs: the extras of reranker/pyproject.toml, by engine name.

Also a script for the image build, which has only pyproject.toml at that point:

    python3 requirements.py --engine onnx         # core dependencies + the engine's extra
    python3 requirements.py --extra export        # core dependencies + one extra
    python3 requirements.py --extra-of onnx-int8  # the extra's name: onnx

Standard library only (Python >= 3.11 for tomllib when run as a script).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# engine name -> the extra that installs what it imports (pip install "reranker[extra]").
EXTRAS: dict[str, str] = {"torch": "torch", "torch-batched": "torch", "torch-bf16": "torch",
                          "onnx": "onnx", "onnx-int8": "onnx"}


def requirements(pyproject: Path, extra: str) -> list[str]:
    import tomllib

    project = tomllib.loads(pyproject.read_text())["project"]
    extras = project.get("optional-dependencies", {})
    if extra not in extras:
        raise SystemExit(f"no extra {extra!r} in {pyproject} (extras: {', '.join(sorted(extras))})")
    return list(project["dependencies"]) + list(extras[extra])


def extra_of(engine: str) -> str:
    if engine not in EXTRAS:
        raise SystemExit(f"ENGINE={engine!r}: not an engine the image knows "
                         f"({', '.join(EXTRAS)})")
    return EXTRAS[engine]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pyproject", type=Path, default=Path("pyproject.toml"))
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--engine", help="print the requirements of this engine")
    group.add_argument("--extra", help="print the requirements of this extra")
    group.add_argument("--extra-of", metavar="ENGINE", help="print the extra of this engine")
    args = parser.parse_args(argv)
    if args.extra_of:
        print(extra_of(args.extra_of))
        return 0
    extra = args.extra or extra_of(args.engine)
    print("\n".join(requirements(args.pyproject, extra)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
