"""The number of CPUs this process may run on: what the engines size their threads by.

The process's CPU affinity where the OS has one (psutil: Linux, Windows, FreeBSD), so a
container or a `taskset` limited to some cores gets that many threads; elsewhere (macOS, where
neither psutil nor `os` offers an affinity) every CPU the OS counts.
"""

from __future__ import annotations

import os

import psutil


def usable_cpus() -> int:
    """CPUs this process may use: its affinity's size, else os.cpu_count() (1 if unknown)."""
    process = psutil.Process()
    if hasattr(process, "cpu_affinity"):
        try:
            return len(process.cpu_affinity()) or 1
        except psutil.Error:  # e.g. denied by a sandbox: fall back to the count
            pass
    return os.cpu_count() or 1
