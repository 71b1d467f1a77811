"""A private package index for tests: it answers only one user and password (HTTP basic auth),
as an index with credentials in its URL does, and lets a test decide every answer.

    def answer(path, headers):  # -> (status, body, response headers)
        return 200, b"<a href=...>", {"Content-Type": "text/html"}

    with FakeIndex(answer, user="user", password="its-password") as index:
        index.url   # http://127.0.0.1:PORT
        index.seen  # [(path, the Authorization header or None), ...] of every GET

A request without those credentials gets 401 and never reaches `answer`. `pypi_answer` passes
each request on to PyPI's simple API (its pages link to PyPI's file host, which a client then
reaches directly).
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Answer = Callable[[str, dict], tuple[int, bytes, dict]]


class FakeIndex:
    """Serves `answer` on host:port (port 0: a free one) from a thread while entered."""

    def __init__(self, answer: Answer, *, user: str, password: str, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        self.answer = answer
        self.credentials = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.seen: list[tuple[str, str | None]] = []
        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._server.daemon_threads, self._server.index = True, self
        self.url = f"http://{host}:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeIndex:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args) -> None:  # noqa: A002 - quiet in tests
        pass

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        index: FakeIndex = self.server.index
        authorization = self.headers.get("Authorization")
        index.seen.append((self.path, authorization))
        if authorization != index.credentials:
            status, body, headers = 401, b"unauthorized", {"WWW-Authenticate": "Basic"}
        else:
            status, body, headers = index.answer(self.path, dict(self.headers))
        self.send_response(status)
        for name, value in {"Content-Type": "text/plain", **headers,
                            "Content-Length": str(len(body))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


def pypi_answer(verify: str | bool = True) -> Answer:
    """An answer that fetches the same path from https://pypi.org (its simple API) with the
    request's Accept header; `verify`: a CA bundle for a TLS-inspecting proxy."""
    import requests

    def answer(path: str, headers: dict) -> tuple[int, bytes, dict]:
        upstream = requests.get(f"https://pypi.org{path}", timeout=60, verify=verify,
                                headers={"Accept": headers.get("Accept", "*/*")})
        return upstream.status_code, upstream.content, {
            "Content-Type": upstream.headers.get("Content-Type", "text/html")}

    return answer
