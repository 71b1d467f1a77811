"""The CPUs the engines may use: the process's affinity where the OS has one, else all."""

from __future__ import annotations

import os
import subprocess
import sys

import psutil
import pytest

from reranker.cpus import usable_cpus


def test_the_affinity_is_counted_where_the_os_has_one():
    assert usable_cpus() == len(psutil.Process().cpu_affinity())


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs sched_setaffinity")
def test_a_process_pinned_to_one_cpu_uses_one():
    code = ("import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); "
            "from reranker.cpus import usable_cpus; print(usable_cpus())")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "1"


def test_a_macos_like_host_gets_the_cpu_count(monkeypatch):
    # macOS: psutil has no cpu_affinity there, and os has no sched_getaffinity
    monkeypatch.delattr(psutil.Process, "cpu_affinity")
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 7)
    assert usable_cpus() == 7


def test_an_unknown_cpu_count_is_one(monkeypatch):
    monkeypatch.delattr(psutil.Process, "cpu_affinity")
    monkeypatch.setattr(os, "cpu_count", lambda: None)  # documented: "None if undetermined"
    assert usable_cpus() == 1
