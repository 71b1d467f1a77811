"""groups.py with real processes: liveness by pid and start time, stopping with escalation."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import replace

import pytest

from weaviate_dev.core.identity import Identity
from weaviate_dev.weaviate import groups

# Exits 0 on SIGINT; with "stubborn" ignores SIGINT and SIGTERM (only SIGKILL stops it).
SERVER = textwrap.dedent("""
    import signal, sys, time
    stubborn = len(sys.argv) > 1
    handler = signal.SIG_IGN if stubborn else (lambda *a: sys.exit(0))
    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, signal.SIG_IGN if stubborn else (lambda *a: sys.exit(3)))
    print("up", flush=True)
    time.sleep(120)
""")


def start(*args) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", SERVER, *args], stdout=subprocess.PIPE,
                            text=True, start_new_session=True)
    assert proc.stdout.readline().strip() == "up"
    return proc


@pytest.fixture
def started(spawned):
    return spawned


def test_a_process_is_known_by_pid_and_start_time(started):
    proc = start()
    started.append(proc)
    known = Identity.of(proc.pid)
    assert groups.Member(known).alive()
    assert not groups.Member(replace(known, started=known.started + 60)).alive()  # reused pid
    os.kill(proc.pid, signal.SIGKILL)
    time.sleep(0.2)  # a zombie (not reaped yet) counts as gone
    assert not groups.Member(known).alive()
    proc.wait()
    assert not groups.Member(known).alive()


def test_a_start_time_is_wall_clock_seconds_on_any_os(started):
    # psutil's create time: what a record written in one terminal and read in another (or on
    # a Mac) compares, rather than Linux's clock ticks after boot
    before = time.time()
    proc = start()
    started.append(proc)
    assert before - 1 <= groups.Member.of(proc).identity.started <= time.time()


def test_a_clock_step_keeps_a_process_known(started, clock_step):
    # Linux derives start times from the boot time, which a clock step moves
    proc = start()
    started.append(proc)
    known = groups.Member(Identity.of(proc.pid))
    clock_step(3600)
    assert known.alive()
    clock_step(-3600)
    assert known.alive()
    assert groups.signal_owner(known, signal.SIGINT) and proc.wait(timeout=10) == 0


def test_stop_sends_sigint_and_waits(started):
    procs = [start(), start()]
    started.extend(procs)
    members = [groups.Member.of(p) for p in procs]
    took = groups.stop(members, grace=10)
    assert [p.returncode for p in procs] == [0, 0] and took < 5


def test_stop_escalates_to_sigkill_after_the_grace(started):
    procs = [start(), start("stubborn")]
    started.extend(procs)
    took = groups.stop([groups.Member.of(p) for p in procs], grace=1, term_grace=1)
    assert procs[0].returncode == 0 and procs[1].returncode == -signal.SIGKILL
    assert 2 <= took < 6


def test_a_new_request_skips_the_rest_of_the_grace(started):
    proc = start("stubborn")
    started.append(proc)
    asked = iter([0, 0, 1, 1, 2, 2, 2, 2])
    took = groups.stop([groups.Member.of(proc)], grace=60, term_grace=60,
                       requests=lambda: next(asked, 2))
    assert proc.returncode == -signal.SIGKILL and took < 5


def test_members_of_others_are_stopped_by_pid(started):
    proc = start()
    started.append(proc)
    member = groups.Member(Identity.of(proc.pid))
    groups.signal_owner(member, signal.SIGINT)
    assert proc.wait(timeout=10) == 0
    assert not member.alive()
    assert groups.signal_owner(member, signal.SIGINT) is False  # gone: nothing is signalled


def test_wait_gone(started):
    proc = start()
    started.append(proc)
    member = groups.Member.of(proc)
    assert groups.wait_gone([member], timeout=0.3) is False
    proc.send_signal(signal.SIGINT)
    assert groups.wait_gone([member], timeout=10) is True
