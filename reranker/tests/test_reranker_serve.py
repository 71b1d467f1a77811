"""`python -m reranker` over real HTTP on 127.0.0.1: gunicorn, the loader, the health timing."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import requests

from reranker.engine_table import DEFAULT_ENGINE

TESTS_DIR = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, process: subprocess.Popen, url: str, log: Path) -> None:
        self.process, self.url, self.log = process, url, log

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"server exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                status = requests.get(f"{self.url}/.well-known/ready", timeout=1).status_code
                if status == 204:
                    return
                last = f"status {status}"
            except requests.RequestException as exc:
                last = repr(exc)
            time.sleep(0.2)
        pytest.fail(f"{self.url}/.well-known/ready not 204 within {timeout}s ({last}):\n"
                    f"{self.log_tail()}")


@contextlib.contextmanager
def serve(tmp_path: Path, model_dir: Path, env: dict[str, str] | None = None) -> Iterator[Server]:
    port = free_port()
    log = tmp_path / f"server-{port}.log"
    environ = {**os.environ, **(env or {})}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "reranker", "--model-dir", str(model_dir),
             "--host", "127.0.0.1", "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, env=environ)
    try:
        yield Server(process, f"http://127.0.0.1:{port}", log)
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def engine_env(name: str, seconds: float) -> dict[str, str]:
    """The environment that runs one of reranker_test_engines."""
    return {"ENGINE": f"reranker_test_engines:{name}", "SLOW_ENGINE_SECONDS": str(seconds),
            "PYTHONPATH": os.pathsep.join([str(TESTS_DIR), os.environ.get("PYTHONPATH", "")])}


def wait_for(check, tries: int = 500) -> bool:
    """Whether `check()` came true, asked every 20 ms (bounded; no time is asserted)."""
    for _ in range(tries):
        if check():
            return True
        time.sleep(0.02)
    return False


def metric(server: Server, name: str, **labels) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    text = requests.get(f"{server.url}/metrics", timeout=10).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0


def test_python_m_reranker_serves_the_protocol(tmp_path, tiny_model_dir, reference):
    with serve(tmp_path, tiny_model_dir, {"ENGINE": "torch"}) as server:  # the reference
        server.wait_ready()
        assert requests.get(f"{server.url}/.well-known/live", timeout=5).status_code == 204
        meta = requests.get(f"{server.url}/meta", timeout=5)
        assert meta.status_code == 200 and "model" in meta.json()
        docs = ["frank herbert wrote dune", "cats", ""]
        # Like Weaviate: a raw JSON body without a Content-Type header.
        body = json.dumps({"query": "who wrote dune", "documents": docs, "property": ""})
        response = requests.post(f"{server.url}/rerank", data=body.encode(), timeout=10)
        assert "Content-Type" not in response.request.headers
        assert response.status_code == 200
        scores = [s["score"] for s in response.json()["scores"]]
        np.testing.assert_allclose(
            scores, reference.predict([["who wrote dune", d] for d in docs]), atol=1e-5)
        bad = requests.post(f"{server.url}/rerank", data=b"{nope", timeout=5)
        assert bad.status_code == 400 and "error" in bad.json()
        missing = requests.get(f"{server.url}/missing", timeout=5)
        assert missing.status_code == 404 and "error" in missing.json()
        assert "Using worker: reranker.worker.ProbeLaneWorker" in server.log_tail(100)


def test_health_answers_at_once_while_requests_queue_for_the_model(tmp_path, tiny_model_dir):
    env = {"ENGINE": "reranker_test_engines:slow", "SLOW_ENGINE_SECONDS": "1",
           "PYTHONPATH": os.pathsep.join([str(TESTS_DIR), os.environ.get("PYTHONPATH", "")])}
    with serve(tmp_path, tiny_model_dir, env) as server:
        server.wait_ready()
        statuses: list[int] = []

        def rerank(i: int) -> None:
            body = json.dumps({"query": "q", "documents": ["x" * i] * 32}).encode()
            statuses.append(requests.post(f"{server.url}/rerank", data=body, timeout=60)
                            .status_code)

        threads = [threading.Thread(target=rerank, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        time.sleep(0.5)  # the scoring lock is now held, 7 requests wait behind it
        for _ in range(5):
            started = time.monotonic()
            # Weaviate's probe gives up after 500 ms.
            response = requests.get(f"{server.url}/.well-known/ready", timeout=0.5)
            assert response.status_code == 204
            assert time.monotonic() - started < 0.5
            time.sleep(0.2)
        assert len(statuses) < 8, "the requests should still be queued while probing"
        for thread in threads:
            thread.join(60)
        assert statuses == [200] * 8


def test_missing_model_dir_exits_2(tmp_path):
    result = subprocess.run([sys.executable, "-m", "reranker", "--model-dir",
                             str(tmp_path / "absent"), "--port", str(free_port())],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "does not exist" in result.stderr


def test_bad_setting_exits_2(tiny_model_dir):
    result = subprocess.run([sys.executable, "-m", "reranker", "--model-dir",
                             str(tiny_model_dir), "--port", "http"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "PORT='http'" in result.stderr


@pytest.mark.parametrize("engine", ["torch", "onnx"])
def test_check_scores_one_pair_and_exits(tiny_model_dir, reference, engine):
    result = subprocess.run([sys.executable, "-m", "reranker", "--check", "--engine", engine,
                             "--model-dir", str(tiny_model_dir)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    expected = reference.predict([["a query", "a document"]])[0]
    assert f"engine {engine}" in result.stdout
    assert f"score of a test pair {expected:.4f}" in result.stdout


def test_check_of_an_unloadable_model_exits_1(tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{}")
    # The default engine (imports in a second, where torch takes ten).
    result = subprocess.run([sys.executable, "-m", "reranker", "--check", "--engine",
                             DEFAULT_ENGINE, "--model-dir", str(broken)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert f"engine '{DEFAULT_ENGINE}' cannot score with" in result.stderr
    assert f"no tokenizer.json in {broken}" in result.stderr


def test_unloadable_model_stops_the_server(tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{}")
    with serve(tmp_path, broken) as server:
        try:
            server.process.wait(90)
        except subprocess.TimeoutExpired:
            pytest.fail(f"server kept running without a model:\n{server.log_tail()}")
        assert server.process.returncode != 0
        assert "could not be loaded" in server.log_tail(200)


def test_chunked_body_over_the_limit_is_413_json(tmp_path, tiny_model_dir):
    with serve(tmp_path, tiny_model_dir, {"MAX_BODY_BYTES": "1000"}) as server:
        server.wait_ready()

        def chunks():  # no Content-Length: Transfer-Encoding: chunked
            yield b'{"query": "q", "documents": ["'
            for _ in range(20):
                yield b"x" * 100
            yield b'"]}'

        response = requests.post(f"{server.url}/rerank", data=chunks(), timeout=10)
        assert response.status_code == 413
        assert "too large" in response.json()["error"]
        small = requests.post(f"{server.url}/rerank", data=iter([b'{"query": "q", ',
                                                                 b'"documents": ["d"]}']),
                              timeout=10)
        assert small.status_code == 200 and len(small.json()["scores"]) == 1


def exchange(sock: socket.socket, path: str, body: bytes) -> tuple[int, dict, dict]:
    """Send a whole request (Content-Length) before reading anything; the answer's status,
    JSON body and headers."""
    sock.sendall(b"POST %s HTTP/1.1\r\nHost: test\r\nContent-Length: %d\r\n\r\n"
                 % (path.encode(), len(body)))
    sock.sendall(body)
    response = http.client.HTTPResponse(sock)
    response.begin()
    return response.status, json.loads(response.read()), dict(response.getheaders())


@pytest.mark.parametrize("path, status", [("/rerank", 413), ("/nowhere", 404)])
def test_a_client_that_sends_a_large_body_whole_reads_the_answer(tmp_path, tiny_model_dir,
                                                                 path, status):
    # 60 MB: far over MAX_BODY_BYTES (10 MiB) and far more than the socket buffers hold, so the
    # client is still sending when the server has answered.
    huge = b'{"query": "q", "documents": ["' + b"x" * 60_000_000 + b'"]}'
    env = {"ENGINE": "reranker_test_engines:slow", "SLOW_ENGINE_SECONDS": "0",
           "PYTHONPATH": os.pathsep.join([str(TESTS_DIR), os.environ.get("PYTHONPATH", "")])}
    with serve(tmp_path, tiny_model_dir, env) as server:
        server.wait_ready()
        port = int(server.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
            try:
                got, answer, _ = exchange(sock, path, huge)
            except OSError as exc:
                pytest.fail(f"{exc!r} instead of the {status} answer:\n{server.log_tail()}")
            assert got == status and "error" in answer
            # The connection is still good for the next request.
            got, answer, _ = exchange(sock, "/rerank", b'{"query": "q", "documents": ["d"]}')
            assert got == 200 and len(answer["scores"]) == 1


def test_an_overloaded_server_answers_503_at_once_and_keeps_the_connection(tmp_path,
                                                                           tiny_model_dir):
    # One request at a time (every body is over 1 byte) and no queue: while the slow engine
    # holds the first, a second is refused.
    env = {"ENGINE": "reranker_test_engines:slow", "SLOW_ENGINE_SECONDS": "5",
           "MAX_INFLIGHT_BYTES": "1", "MAX_QUEUED": "0",
           "PYTHONPATH": os.pathsep.join([str(TESTS_DIR), os.environ.get("PYTHONPATH", "")])}
    with serve(tmp_path, tiny_model_dir, env) as server:
        server.wait_ready()
        first: list[requests.Response] = []
        thread = threading.Thread(target=lambda: first.append(requests.post(
            f"{server.url}/rerank", data=b'{"query": "q", "documents": ["d"]}', timeout=60)))
        thread.start()
        wait_for(lambda: metric(server, "reranker_requests_in_flight") == 1)  # admitted
        port = int(server.url.rsplit(":", 1)[1])
        big = b'{"query": "q", "documents": ["' + b"x" * 1_000_000 + b'"]}'
        with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
            got, answer, headers = exchange(sock, "/rerank", big)
            assert got == 503, answer
            assert headers["Retry-After"] == "1" and "MAX_QUEUED" in answer["error"]
            assert not first, "the 503 came only after the first request was answered"
            thread.join(60)
            assert first[0].status_code == 200
            # The refused body was read and dropped: the connection serves the next request.
            got, answer, _ = exchange(sock, "/rerank", b'{"query": "q", "documents": ["d"]}')
            assert got == 200 and len(answer["scores"]) == 1


def test_a_request_whose_client_hangs_up_is_dropped_and_logged_once(tmp_path, tiny_model_dir):
    """The engine would work on it for a minute; the client closes its connection: the
    server drops it (the connection reads end-of-file), counts it and says so once."""
    with serve(tmp_path, tiny_model_dir, engine_env("until_dropped", 60)) as server:
        server.wait_ready()
        port = int(server.url.rsplit(":", 1)[1])
        body = b'{"query": "q", "documents": ["d"]}'
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"POST /rerank HTTP/1.1\r\nHost: test\r\nX-Request-Id: hung-up\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            wait_for(lambda: metric(server, "reranker_requests_in_flight") == 1)  # the engine has it
        # The client has gone: dropped within a poll of the watcher.
        assert wait_for(lambda: metric(server, "reranker_requests_dropped_total",
                                       reason="client_gone") == 1)
        assert metric(server, "reranker_requests_in_flight") == 0
        dropped = [line for line in server.log_tail(200).splitlines()
                   if "reranker.app" in line and "dropped" in line]
        assert len(dropped) == 1, dropped
        assert "request hung-up dropped after" in dropped[0]
        assert "the client closed its connection" in dropped[0]


def test_a_client_that_waits_is_answered_and_never_dropped(tmp_path, tiny_model_dir):
    with serve(tmp_path, tiny_model_dir, engine_env("until_dropped", 2)) as server:
        server.wait_ready()
        answers = [requests.post(f"{server.url}/rerank", timeout=30,
                                 data=b'{"query": "q", "documents": ["dd"]}')
                   for _ in range(2)]  # the second on a fresh connection of its own
        assert [a.status_code for a in answers] == [200, 200]
        assert [a.json()["scores"][0]["score"] for a in answers] == [2.0, 2.0]
        for reason in ("client_gone", "deadline"):
            assert metric(server, "reranker_requests_dropped_total", reason=reason) == 0


def test_probes_answer_while_every_request_thread_is_taken(tmp_path, tiny_model_dir):
    """THREADS=2, both held by requests the model takes 30 s each over, two more waiting for
    a thread: the probes are answered meanwhile, on threads of their own."""
    env = {**engine_env("slow", 30), "THREADS": "2"}
    with serve(tmp_path, tiny_model_dir, env) as server:
        server.wait_ready()
        statuses: list[int] = []

        def rerank() -> None:
            with contextlib.suppress(requests.RequestException):
                statuses.append(requests.post(f"{server.url}/rerank", timeout=120,
                                              data=b'{"query": "q", "documents": ["d"]}')
                                .status_code)

        threads = [threading.Thread(target=rerank, daemon=True) for _ in range(4)]
        for thread in threads:
            thread.start()
        # Both request threads are taken.
        wait_for(lambda: metric(server, "reranker_requests_in_flight") == 2)
        for path in ("/.well-known/live", "/.well-known/ready"):
            with socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1])),
                                          timeout=20) as sock:  # a new connection, as kubelet
                sock.sendall(b"GET %s HTTP/1.1\r\nHost: test\r\n\r\n" % path.encode())
                response = http.client.HTTPResponse(sock)
                response.begin()
                assert response.status == 204, path
        assert statuses == [], "the probes were answered only after the requests"
