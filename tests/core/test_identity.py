"""core/identity.py with real processes: a recorded process is known by pid and start time,
through a wall-clock step, in the record format of earlier versions too."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from tests.conftest import boot_ticks
from weaviate_dev.core.identity import SLACK, Identity

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="clock ticks after boot are Linux's /proc")


@pytest.fixture
def child(spawned) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"],
                            start_new_session=True)
    spawned.append(proc)
    return proc


def test_a_running_process_is_the_one_recorded(child):
    recorded = Identity.of(child.pid)
    assert recorded.alive()
    assert recorded.boot == psutil.boot_time()
    assert abs(recorded.started - psutil.Process(child.pid).create_time()) < 0.01


@pytest.mark.parametrize("seconds", [3600, -3600, 3 * SLACK, 86400 * 400])
def test_a_clock_step_keeps_a_running_process_known(child, clock_step, seconds):
    recorded = Identity.of(child.pid)
    clock_step(seconds)  # Linux: every start time moves with the boot time
    assert abs(Identity.of(child.pid).started - recorded.started - seconds) < 1
    assert recorded.alive()


def test_a_clock_step_that_moves_only_the_boot_time_keeps_it_known(child, clock_step):
    recorded = Identity.of(child.pid)
    clock_step(3600, starts_move=False)  # macOS: the kernel keeps each start as it was
    assert recorded.alive()


def test_a_reused_pid_is_another_process(child, clock_step):
    recorded = Identity.of(child.pid)
    for other in (recorded.started - 500, recorded.started + 3 * SLACK):
        assert not Identity(child.pid, other, recorded.boot).alive()
        assert not Identity(child.pid, other).alive()
    clock_step(3600)
    assert not Identity(child.pid, recorded.started - 500, recorded.boot).alive()


def test_a_record_without_boot_time_matches_by_start_time(child):
    # what weaviate-dev wrote between psutil and the boot time (2026-12-05)
    recorded = Identity.of(child.pid)
    assert Identity(child.pid, recorded.started).alive()


def test_a_process_gone_or_a_zombie_is_gone(child):
    recorded = Identity.of(child.pid)
    os.kill(child.pid, signal.SIGKILL)
    time.sleep(0.2)  # a zombie: not reaped yet
    assert not recorded.alive() and Identity.of(child.pid) is None
    child.wait()
    assert not recorded.alive() and Identity.of(child.pid) is None
    assert not Identity(child.pid, 0.0).alive()


def test_a_process_we_may_not_inspect_counts_as_running(child, monkeypatch):
    recorded = Identity.of(child.pid)

    def denied(pid):
        raise psutil.AccessDenied(pid)

    monkeypatch.setattr(psutil, "Process", denied)
    assert recorded.alive() and Identity.of(child.pid) is None


@linux_only
def test_a_start_in_clock_ticks_after_boot_is_read(child, clock_step):
    ticks = boot_ticks(child.pid)
    assert Identity.from_boot_ticks(child.pid, ticks).alive()
    clock_step(-7200)
    assert Identity.from_boot_ticks(child.pid, ticks).alive()
    hertz = os.sysconf("SC_CLK_TCK")
    assert not Identity.from_boot_ticks(child.pid, ticks - 500 * hertz).alive()
