"""Port preflight: a taken port is named, with its holder where it can be found."""

import os
import socket
from types import SimpleNamespace

import psutil
import pytest

from weaviate_dev.services import ports


@pytest.fixture
def taken_port():
    """A port on 127.0.0.1 that this test process listens on."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield sock.getsockname()[1]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_taken_port_is_named_with_its_holder(taken_port):
    conflicts = ports.preflight([("127.0.0.1", taken_port, "reranker-transformers")],
                                containers=lambda: {})
    assert len(conflicts) == 1
    conflict = conflicts[0]
    assert conflict.port == taken_port and conflict.service == "reranker-transformers"
    message = conflict.describe()
    assert f"127.0.0.1:{taken_port}" in message
    assert f"held by process {os.getpid()} (" in message  # this very process, on any OS


def test_the_listeners_of_a_port_are_found(taken_port):
    assert ports.listening_pids(taken_port) == {os.getpid()}
    assert ports.listening_pids(free_port()) == set()


def test_without_the_system_wide_table_each_process_is_asked(taken_port, monkeypatch):
    # macOS: psutil.net_connections() needs root there; a process's own sockets do not
    def denied(kind="inet"):
        raise psutil.AccessDenied()

    monkeypatch.setattr(psutil, "net_connections", denied)
    assert ports.listening_pids(taken_port) == {os.getpid()}
    assert ports.process_holding(taken_port).startswith(f"process {os.getpid()} (")


def test_a_listener_we_may_not_inspect_is_said_so(monkeypatch):
    # Linux without root: another user's listener is in the table, its pid is not
    listener = SimpleNamespace(fd=-1, family=socket.AF_INET, type=socket.SOCK_STREAM,
                               laddr=SimpleNamespace(ip="0.0.0.0", port=8009), raddr=(),
                               status=psutil.CONN_LISTEN, pid=None)
    monkeypatch.setattr(psutil, "net_connections", lambda kind="inet": [listener])
    assert ports.process_holding(8009) == "a process we may not inspect"
    assert ports.process_holding(8010) is None


def test_taken_on_loopback_also_blocks_all_interfaces(taken_port):
    free, reason = ports.port_is_free("0.0.0.0", taken_port)
    assert not free and "in use" in reason


def test_free_port_passes():
    port = free_port()
    assert ports.preflight([("127.0.0.1", port, "x")], containers=lambda: {}) == []


def test_ports_of_our_own_project_are_ignored(taken_port):
    assert ports.preflight([("127.0.0.1", taken_port, "x")], ignore_ports={taken_port},
                           containers=lambda: {}) == []


def test_a_container_holder_is_preferred(taken_port):
    conflicts = ports.preflight([("127.0.0.1", taken_port, "x")],
                                containers=lambda: {taken_port: "Docker container other"})
    assert conflicts[0].holder == "Docker container other"


def test_every_conflict_is_reported():
    taken = {8009: "in use", 9090: "in use"}
    conflicts = ports.preflight(
        [("127.0.0.1", 8009, "a"), ("127.0.0.1", 8010, "b"), ("127.0.0.1", 9090, "c")],
        is_free=lambda address, port: (port not in taken, taken.get(port, "")),
        containers=lambda: {})
    assert [(c.port, c.service) for c in conflicts] == [(8009, "a"), (9090, "c")]


def test_tcp_probe(taken_port):
    from weaviate_dev.core.waiting import tcp_probe

    assert tcp_probe("127.0.0.1", taken_port)() is None
    assert "connect" in tcp_probe("127.0.0.1", free_port())()
