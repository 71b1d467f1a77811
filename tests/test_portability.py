"""Nothing in the toolkit, the reranker or the bench reads Linux's /proc or calls Linux-only CPU
affinity calls, except where Linux is the point: processes, sockets and CPU counts go through
psutil (and reranker.cpus), so they work on macOS too."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("src", "reranker/src", "bench")
LINUX_ONLY = re.compile(r"/proc\b|sched_getaffinity|sched_setaffinity")
# (file, the line's text): reads of Linux that only mean something on Linux
ALLOWED = {
    # foreign-architecture emulation (qemu through binfmt_misc) is a Linux kernel feature
    ("src/weaviate_dev/services/docker/cross_build.py", 'BINFMT = Path("/proc/sys/fs/binfmt_misc")'),
}


def linux_only_lines(root: Path) -> set[tuple[str, str]]:
    found = set()
    for top in SOURCES:
        for path in sorted((root / top).rglob("*.py")):
            for line in path.read_text().splitlines():
                if LINUX_ONLY.search(line):
                    found.add((str(path.relative_to(root)), line.strip()))
    return found


def test_only_linux_features_read_proc():
    assert linux_only_lines(ROOT) - ALLOWED == set()


def test_a_new_proc_reader_is_caught(tmp_path):
    module = tmp_path / "src" / "weaviate_dev" / "x.py"
    module.parent.mkdir(parents=True)
    module.write_text('STAT = "/proc/self/stat"\nn = len(os.sched_getaffinity(0))\n')
    assert linux_only_lines(tmp_path) == {("src/weaviate_dev/x.py", 'STAT = "/proc/self/stat"'),
                                          ("src/weaviate_dev/x.py",
                                           "n = len(os.sched_getaffinity(0))")}
