"""Whether anyone still waits: a real connection that closes, one that stays, the deadline."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from reranker import watch as watch_module
from reranker.watch import CLIENT_GONE, DEADLINE, Dropped, Watch, Watcher, gone, sweep


@contextmanager
def connection() -> Iterator[tuple[socket.socket, socket.socket]]:
    """A real TCP connection on 127.0.0.1: (the client's end, the server's end)."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        server, _ = listener.accept()
    try:
        yield client, server
    finally:
        client.close()
        server.close()


def gone_soon(watches: list[Watch], tries: int = 200) -> list[Watch]:
    """`gone(watches)` once the kernel has delivered what the client did (a few ms at most on
    loopback; bounded, and no time is asserted)."""
    for _ in range(tries):
        found = gone(watches)
        if found:
            return found
        time.sleep(0.01)
    return []


@pytest.mark.parametrize("rdhup", [True, False], ids=["pollrdhup", "peek"])
def test_a_connection_the_client_closed_reads_end_of_file(monkeypatch, rdhup):
    """Linux's poll() says "the peer closed" (POLLRDHUP); elsewhere a readable socket is
    peeked, and end-of-file is a peek that gives no byte."""
    if not rdhup:
        select = watch_module.select
        monkeypatch.setattr(watch_module, "_RDHUP", 0)
        monkeypatch.setattr(watch_module, "_BROKEN",
                            select.POLLHUP | select.POLLERR | select.POLLNVAL)
    with connection() as (client, server):
        watch = Watch(server)
        assert gone([watch]) == []
        client.close()
        assert gone_soon([watch]) == [watch]


def test_a_client_that_still_waits_is_never_taken_for_gone():
    with connection() as (client, server):
        watch = Watch(server)
        client.sendall(b"GET /next HTTP/1.1\r\n\r\n")  # even with bytes unread on it
        time.sleep(0.05)
        assert gone([watch]) == []
        assert sweep([watch]) == [] and not watch.is_dropped
        assert server.recv(100).startswith(b"GET /next")  # the peek took nothing


def test_a_client_that_sent_more_and_then_closed_is_gone():
    with connection() as (client, server):
        watch = Watch(server)
        client.sendall(b"pipelined bytes")
        client.close()
        assert gone_soon([watch]) == [watch]


def test_a_reset_connection_is_gone():
    with connection() as (client, server):
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        client.close()  # linger 0: a reset, not an orderly end
        assert gone_soon([Watch(server)])


def test_the_deadline_drops_the_request_once():
    watch = Watch(None, deadline=100.0, request_timeout=60)
    assert sweep([watch], now=99.9) == []
    assert sweep([watch], now=100.0) == [watch]
    assert sweep([watch], now=101.0) == []  # dropped once; the first reason stays
    assert watch.dropped.result(0) == DEADLINE
    error = watch.error()
    assert isinstance(error, Dropped) and error.reason == DEADLINE
    assert "REQUEST_TIMEOUT (60 s)" in error.message


def test_the_watcher_drops_the_request_whose_client_closed_and_only_it():
    watcher = Watcher(request_timeout=0, period=0.01)
    with connection() as (client, server), connection() as (_waiting_client, other_server):
        watch, other = watcher.watch(server), watcher.watch(other_server)
        client.close()
        assert watch.dropped.result(timeout=10) == CLIENT_GONE
        assert "the client closed its connection" in watch.error().message
        assert not other.is_dropped  # swept in the same poll: its client still waits
        watcher.forget(watch)
        watcher.forget(other)


def test_a_forgotten_request_is_not_followed():
    watcher = Watcher(request_timeout=0.01, period=0.01)
    watch = watcher.watch(None)
    assert watch.deadline is not None
    watcher.forget(watch)
    time.sleep(0.1)
    assert not watch.is_dropped


def test_request_timeout_0_follows_nothing_without_a_socket():
    watcher = Watcher(request_timeout=0)
    watch = watcher.watch(None)
    assert watch.deadline is None and watcher._thread is None  # noqa: SLF001 - no thread needed


@pytest.mark.parametrize("reason", [CLIENT_GONE, DEADLINE])
def test_a_request_is_dropped_once_whatever_comes_next(reason):
    watch = Watch()
    assert watch.drop(reason) and not watch.drop(CLIENT_GONE if reason == DEADLINE else DEADLINE)
    assert watch.error().reason == reason
