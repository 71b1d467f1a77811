"""Clients that hang up: is the server quick again once they have left, and idle?

Issue 30's scenario: `clients` (6) clients at once each send one `POST /rerank` of 1,000 long
documents (`long_body`: English prose of the bench corpus, `chars` (2,600) characters each,
~600 tokens: truncated to 512 for a MiniLM-L6-shaped model, about 37 s of work a request on
our machine; minutes for a bge-reranker-v2-m3-shaped one) and hang up after `hang_up` (2 s),
as Weaviate's module client does when its timeout passes. `wait` (1 s) after they left, one
ordinary request (32 documents of the bench corpus) is sent and timed; then the server's
process tree is left alone for `quiet` (10 s) and its CPU-seconds over that span are
measured. The bar: the ordinary request answered 200 within 5 s of the clients leaving, and
at most 3 CPU-seconds spent in the quiet 10 s (a server that scores for nobody burns both
cores: ~20 CPU-seconds).
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from dataclasses import dataclass

from bench.load import CHUNK, check_loopback
from bench.rss import tree_cpu_seconds

GOALS = {"after_leaving_seconds": 5.0, "quiet_cpu_seconds": 3.0}
DOCUMENTS = 1000  # the reranker's default MAX_DOCUMENTS


def long_body(corpus, client: int, *, documents: int = DOCUMENTS, chars: int = 2600) -> bytes:
    """One client's request: a query of the corpus and `documents` documents of `chars`
    characters of its prose each (passages joined, each document starting elsewhere)."""
    prose = " ".join(p.text for p in corpus.passages)
    docs = []
    for index in range(documents):
        start = (index * 7919 + client * 104729) % (len(prose) - chars)
        docs.append(prose[start:start + chars])
    query = corpus.queries[client % len(corpus.queries)].text
    return json.dumps({"query": query, "documents": docs, "property": ""}).encode()


@dataclass
class AbandonedResult:
    clients: int
    hang_up: float
    wait: float
    quiet: float
    status: int | None = None  # the ordinary request's (None: no answer)
    seconds: float = 0.0  # its latency
    before: float = 0.0  # the same request's latency before the clients came
    problem: str = ""
    quiet_cpu: float = 0.0  # the server tree's CPU-seconds in the quiet span

    @property
    def after_leaving(self) -> float:
        """From the clients hanging up to the ordinary request's answer."""
        return self.wait + self.seconds


def hang_up_after(url: str, bodies: list[bytes], seconds: float) -> None:
    """One connection per body sends it as a POST /rerank; all are shut down after `seconds`
    (a sender still writing, or a reader still waiting, stops there)."""
    host, port = check_loopback(url)
    socks = [socket.create_connection((host, port)) for _ in bodies]

    def send(sock: socket.socket, body: bytes) -> None:
        head = (f"POST /rerank HTTP/1.1\r\nHost: {host}:{port}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        try:
            sock.sendall(head + body)
            while sock.recv(65536):
                pass
        except OSError:
            pass  # shut down under it: that is the point
        finally:
            sock.close()

    threads = [threading.Thread(target=send, args=pair, daemon=True)
               for pair in zip(socks, bodies)]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    for sock in socks:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already closed
    for thread in threads:
        thread.join(10)


def ordinary(url: str, corpus, timeout: float = 120.0) -> tuple[int | None, float, str]:
    """One ordinary request (the bench's first query, 32 documents): status, seconds, problem."""
    host, port = check_loopback(url)
    query = corpus.queries[0]
    body = json.dumps({"query": query.text, "documents": query.documents[:CHUNK],
                       "property": ""}).encode()
    started = time.monotonic()
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("POST", "/rerank", body=body)
        response = conn.getresponse()
        payload = response.read()
    except (OSError, http.client.HTTPException) as exc:
        return None, time.monotonic() - started, f"{type(exc).__name__}: {exc}"
    finally:
        conn.close()
    problem = "" if response.status == 200 else payload[:200].decode(errors="replace")
    return response.status, time.monotonic() - started, problem


def run(url: str, pid: int, corpus, *, clients: int = 6, hang_up: float = 2.0,
        wait: float = 1.0, quiet: float = 10.0, chars: int = 2600) -> AbandonedResult:
    """The scenario against a running server whose process tree is `pid`'s."""
    result = AbandonedResult(clients, hang_up, wait, quiet)
    bodies = [long_body(corpus, client, chars=chars) for client in range(clients)]
    ordinary(url, corpus)  # the warm-up: the first request pays for lazy init
    result.before = ordinary(url, corpus)[1]
    hang_up_after(url, bodies, hang_up)
    time.sleep(wait)
    result.status, result.seconds, result.problem = ordinary(url, corpus)
    before = tree_cpu_seconds(pid)
    time.sleep(quiet)
    result.quiet_cpu = tree_cpu_seconds(pid) - before
    return result


def verdict(result: AbandonedResult) -> list[str]:
    """The targets of issue 30 this run missed (empty: all met)."""
    missed = []
    if result.status != 200 or result.after_leaving > GOALS["after_leaving_seconds"]:
        missed.append(f"the ordinary request was answered {result.status or 'nothing'} "
                      f"{result.after_leaving:.1f} s after the clients left (goal: 200 "
                      "within 5 s)")
    if result.quiet_cpu > GOALS["quiet_cpu_seconds"]:
        missed.append(f"{result.quiet_cpu:.1f} CPU-seconds in the quiet {result.quiet:g} s "
                      "(goal: at most 3)")
    return missed


def lines(label: str, result: AbandonedResult) -> list[str]:
    missed = verdict(result)
    out = [f"abandoned {label}: {result.clients} clients sent {DOCUMENTS} long documents "
           f"each and hung up after {result.hang_up:g} s",
           f"  an ordinary request (32 documents) {result.wait:g} s later: "
           f"{result.status or 'no answer'} in {result.seconds:.2f} s "
           f"({result.after_leaving:.2f} s after the clients left; {result.before:.2f} s "
           "before they came)",
           f"  the server's CPU in the quiet {result.quiet:g} s after it: "
           f"{result.quiet_cpu:.1f} CPU-seconds",
           "  -> " + ("PASS" if not missed else "FAIL: " + "; ".join(missed))]
    if result.problem:
        out.append(f"  the ordinary request's answer: {result.problem}")
    return out
