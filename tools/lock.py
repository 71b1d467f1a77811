"""Refresh (or check) uv.lock and the requirement files exported from it.

    python tools/lock.py           # `make lock`: re-resolve pyproject.toml, rewrite the exports
    python tools/lock.py --check   # exit 1 when uv.lock or an export is out of date

uv.lock pins every Python dependency of the workspace (the toolkit and reranker/), with hashes.
Installs that cannot read uv.lock directly get a requirements file exported from it, all in
reranker/requirements/ (the reranker image's build context can see nothing outside reranker/):
`uv.txt`, the pinned uv that make and the image build bootstrap with pip, and `<extra>.txt`,
what each reranker image installs (the service's core dependencies plus one extra, with
`--require-hashes --no-deps`, by `install.sh`). Runs uv from the environment (.venv/bin/uv).
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Packages no image needs although the lock has them: triton serves only torch.compile (1 GB).
NOT_IN_IMAGES = ("triton",)
# What the images install: each engine's extra (the engine table), and the export tools.
ENGINE_TABLE = ROOT / "reranker" / "src" / "reranker" / "engine_table.json"
IMAGE_EXTRAS = (*sorted({row["extra"] for row in
                         json.loads(ENGINE_TABLE.read_text())["engines"].values()}), "export")


def exports(root: Path) -> dict[Path, list[str]]:
    """Each exported file and the `uv export` arguments that write it."""
    locked = root / "reranker" / "requirements"
    files = {locked / "uv.txt": ["--only-group", "dev", "--no-emit-project"]}
    for extra in IMAGE_EXTRAS:
        files[locked / f"{extra}.txt"] = [
            "--package", "reranker", "--extra", extra, "--no-default-groups",
            "--no-emit-workspace", *(a for p in NOT_IN_IMAGES for a in ("--no-emit-package", p))]
    return files


def uv() -> str:
    found = shutil.which("uv", path=os.pathsep.join([str(Path(sys.executable).parent),
                                                      os.environ.get("PATH", "")]))
    if not found:
        raise SystemExit("uv not found: run `make install` (it bootstraps .venv/bin/uv)")
    return found


def run_uv(root: Path, *args: str) -> str:
    result = subprocess.run([uv(), *args], cwd=root, text=True, capture_output=True)
    if result.returncode != 0:
        raise SystemExit(f"uv {' '.join(args)} failed:\n{result.stderr.strip()}")
    return result.stdout


def exported(root: Path, args: list[str]) -> str:
    header = (f"# Exported from uv.lock by `make lock` (tools/lock.py): uv export "
              f"{' '.join(args)}\n# Do not edit; pip install --require-hashes --no-deps -r.\n")
    return header + run_uv(root, "export", "--frozen", "--quiet", "--no-header",
                           "--format", "requirements-txt", *args)


def check(root: Path) -> int:
    stale = []
    result = subprocess.run([uv(), "lock", "--check"], cwd=root, text=True, capture_output=True)
    if result.returncode != 0:
        stale.append(f"uv.lock is out of date with pyproject.toml:\n{result.stderr.strip()}")
    for path, args in exports(root).items():
        want = exported(root, args)
        have = path.read_text() if path.is_file() else ""
        name = str(path.relative_to(root))
        if want != have:
            diff = "".join(difflib.unified_diff(have.splitlines(True), want.splitlines(True),
                                                name, "uv export", n=0))
            stale.append(f"{name} differs from uv.lock:\n{diff[:2000]}")
    for message in stale:
        print(message, file=sys.stderr)
    if stale:
        print("run `make lock` and commit the result", file=sys.stderr)
    return 1 if stale else 0


def refresh(root: Path) -> int:
    run_uv(root, "lock")
    for path, args in exports(root).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(exported(root, args))
        print(f"wrote {path.relative_to(root)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 when a file is out of date")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    return check(args.root) if args.check else refresh(args.root)


if __name__ == "__main__":
    sys.exit(main())
