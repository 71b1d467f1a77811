"""`python -m bench abandoned` and `probes`: their clients and verdicts, against small local
servers (no reranker needed)."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench import abandoned, probes
from bench.rss import cpu_seconds


class _Probed(BaseHTTPRequestHandler):
    status = 204

    def do_GET(self):  # noqa: N802 - http.server's name
        self.send_response(self.status if self.path == "/.well-known/ready" else 204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    servers = []

    def start(status: int = 204) -> str:
        handler = type("Handler", (_Probed,), {"status": status})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_the_prober_records_every_probe_and_names_the_failures(http_server):
    url = http_server(status=503)  # ready answers 503: not ready
    with probes.probing(url, seconds=0.6, interval=0.2, delay=0.0) as probed:
        found = probed.result(timeout=60)
    result = probes.ProbeResult(clients=0, seconds=0.6)
    result.take(found)
    assert len(result.probes["/.well-known/live"]) >= 2 and not result.failed["/.well-known/live"]
    assert result.failed["/.well-known/ready"] and set(result.failed["/.well-known/ready"]) == {
        "HTTP 503"}
    assert [m.split(":")[0] for m in probes.verdict(result)] == ["/.well-known/ready"]


def test_a_probe_that_gets_no_answer_counts_at_its_timeout():
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        seconds, problem = probes.probe_once(url, "/.well-known/live", timeout=0.2)
    assert seconds == 0.2 and "timed out" in problem


def test_percentiles_and_the_bar():
    result = probes.ProbeResult(clients=200, seconds=30,
                                probes={path: [0.01] * 99 + [0.5] for path in probes.PATHS},
                                failed={path: [] for path in probes.PATHS})
    assert result.percentile("/.well-known/live", 50) == 0.01
    assert result.percentile("/.well-known/live", 99) == 0.5
    assert probes.verdict(result) == []
    result.probes["/.well-known/live"][-1] = 1.5
    assert probes.verdict(result) == ["/.well-known/live p99 1.50 s (goal: under 1 s)"]


def test_the_load_is_weaviates_chunks():
    import json

    from bench.texts import build_corpus

    bodies = probes.bodies(build_corpus())
    assert bodies and all(len(json.loads(b)["documents"]) == 32 for b in bodies)


def test_the_abandoning_clients_hang_up_after_sending():
    """Each client connects, sends, and its connection reads end-of-file at the server after
    the given time, whatever it had sent by then."""
    seen: list[tuple[int, bool]] = []
    with socket.create_server(("127.0.0.1", 0)) as listener:

        def accept(count: int) -> None:
            for _ in range(count):
                conn, _ = listener.accept()
                received = 0
                while chunk := conn.recv(65536):
                    received += len(chunk)
                seen.append((received, True))  # recv returned b"": end-of-file
                conn.close()

        thread = threading.Thread(target=accept, args=(2,), daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        abandoned.hang_up_after(url, [b"x" * 1000, b"y" * 2000], seconds=0.2)
        thread.join(10)
    received = sorted(count for count, _ in seen)
    assert len(received) == 2 and received[0] > 1000 and received[1] > 2000


def test_the_verdict_names_each_target_missed():
    late = abandoned.AbandonedResult(clients=6, hang_up=2, wait=1, quiet=10, status=503,
                                     seconds=10.0, quiet_cpu=19.0)
    missed = abandoned.verdict(late)
    assert len(missed) == 2 and "503 11.0 s after the clients left" in missed[0]
    assert "19.0 CPU-seconds" in missed[1]
    quick = abandoned.AbandonedResult(clients=6, hang_up=2, wait=1, quiet=10, status=200,
                                      seconds=0.3, quiet_cpu=0.1)
    assert abandoned.verdict(quick) == [] and quick.after_leaving == pytest.approx(1.3)
    assert "PASS" in abandoned.lines("x", quick)[-1]




def test_cpu_seconds_of_a_process_and_a_gone_one():
    import os

    assert cpu_seconds(os.getpid()) > 0
    assert cpu_seconds(2**22 + 7) == 0.0  # no such process


def test_the_long_documents_are_prose_of_the_corpus_and_differ():
    import json

    from bench.texts import build_corpus

    corpus = build_corpus()
    body = json.loads(abandoned.long_body(corpus, 1, documents=50, chars=2600))
    assert len(body["documents"]) == 50 and {len(d) for d in body["documents"]} == {2600}
    assert len(set(body["documents"])) == 50 and body["query"] == corpus.queries[1].text
    assert body["documents"][0].count(" ") > 300  # words, not one long token
