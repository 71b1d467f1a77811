"""The bench finds a server by its port and sums the memory of it and its workers."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import psutil
import pytest

from bench.rss import PeakSampler, pid_listening_on, tree, tree_rss

# A pre-fork server as gunicorn is one: the master listens, then forks a worker that holds the
# same socket and 20 MB the master has not; once it has them it prints the port and its pid.
SERVER = textwrap.dedent("""
    import os, socket, time
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    if os.fork() == 0:
        ballast = bytearray(20 * 1024 * 1024)
        ballast[::4096] = b"x" * len(ballast[::4096])
        print(sock.getsockname()[1], os.getpid(), flush=True)
        time.sleep(120)
        os._exit(0)
    time.sleep(120)
""")


@pytest.fixture
def server(spawned):
    proc = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True,
                            start_new_session=True)
    spawned.append(proc)
    port, worker = (int(word) for word in proc.stdout.readline().split())
    return proc.pid, worker, port


def test_the_master_of_a_port_is_found(server):
    master, worker, port = server
    assert pid_listening_on(port) == master


def test_the_master_is_found_without_the_system_wide_table(server, monkeypatch):
    # macOS: psutil.net_connections() needs root there
    def denied(kind="inet"):
        raise psutil.AccessDenied()

    monkeypatch.setattr(psutil, "net_connections", denied)
    master, worker, port = server
    assert pid_listening_on(port) == master


def test_a_server_counts_with_its_workers(server):
    master, worker, port = server
    assert sorted(tree(master)) == sorted([master, worker])
    worker_rss = psutil.Process(worker).memory_info().rss
    assert worker_rss > 20 * 1024 * 1024
    assert tree_rss(master) == pytest.approx(
        psutil.Process(master).memory_info().rss + worker_rss, rel=0.05)
    with PeakSampler(master, interval=0.05) as sampler:
        pass
    assert sampler.peak >= worker_rss


def test_nothing_listens_and_nothing_is_left():
    with __import__("socket").socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert pid_listening_on(port) is None
    assert tree_rss(2 ** 22 + 12345) == 0  # no such process
