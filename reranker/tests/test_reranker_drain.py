"""discard_unread_body: what is left of a body is read and dropped, within its bounds.

Through the real server: test_reranker_serve.py (a client that sends a 60 MB body whole).
"""

from __future__ import annotations

import io

from reranker.drain import discard_unread_body


class FakeSocket:
    def __init__(self) -> None:
        self.timeouts: list[float | None] = []

    def gettimeout(self) -> float | None:
        return None

    def settimeout(self, value: float | None) -> None:
        self.timeouts.append(value)


def environ(body: bytes, length: int | None = None, **extra) -> dict:
    env = {"wsgi.input": io.BytesIO(body), **extra}
    if length is not None:
        env["CONTENT_LENGTH"] = str(length)
    return env


def test_the_rest_of_the_body_is_read():
    env = environ(b"x" * 300_000, 300_000)
    env["wsgi.input"].read(10)  # what the app read
    assert discard_unread_body(env) is True
    assert env["wsgi.input"].read() == b""


def test_a_body_read_already_costs_one_read():
    assert discard_unread_body(environ(b"")) is True


def test_a_content_length_over_the_bound_is_not_read_at_all():
    env = environ(b"x" * 1000, 1000)
    assert discard_unread_body(env, max_bytes=999) is False
    assert env["wsgi.input"].tell() == 0


def test_a_body_without_length_stops_at_the_bound():
    env = environ(b"x" * 1_000_000)  # chunked: no CONTENT_LENGTH
    assert discard_unread_body(env, max_bytes=100_000) is False
    assert env["wsgi.input"].tell() < 1_000_000


def test_the_time_bound_sets_the_socket_timeout_and_restores_it():
    sock = FakeSocket()
    assert discard_unread_body(environ(b"x" * 10, 10, **{"gunicorn.socket": sock}),
                               seconds=5) is True
    assert 0 < sock.timeouts[0] <= 5 and sock.timeouts[-1] is None
    assert discard_unread_body(environ(b"x", 1), seconds=0) is False


def test_a_failing_read_leaves_the_connection_to_the_server():
    class Broken(io.RawIOBase):
        def read(self, size=-1):
            raise TimeoutError("timed out")

    assert discard_unread_body({"wsgi.input": Broken(), "CONTENT_LENGTH": "5"}) is False
