"""Hostile load: many clients at once, each posting a body just under the server's size limit.

Issue 25's attack: 64 clients at once, each sending one `POST /rerank` of nearly
`MAX_BODY_BYTES` (10 MiB) of 4-byte UTF-8 characters, either as 1000 documents (the most a
request may hold) or as one document of about 2.6 million characters. The character is
U+20000 (CJK Extension B): 4 bytes in UTF-8, sent raw (not \\u-escaped), and a token of its
own for a WordPiece tokenizer, so every document is as long in tokens as it is in characters.

`attack` fires them all at once and records, per client, the status and the time to the last
byte of the answer (no answer within `timeout` counts as such), while a `PeakSampler` follows
the server's process tree; a server of ours whose tree passes `rss_limit` is killed there (an
unbounded server would otherwise take the machine: the code before issue 25 passed 9.7 GB in
under three minutes here), and the run fails. `ordinary_seconds` then times one ordinary request (32 documents of
the bench corpus, as Weaviate sends them). The server's side of the bargain (docs/reranker.md,
"Overload"): every request answered 200, 413 or 503 within a minute, memory bounded, and the
server quick again afterwards.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field

from bench import probes
from bench.load import CHUNK, Client, check_loopback
from bench.rss import PeakSampler, tree_rss

WIDE_CHAR = "\U00020000"  # 4 bytes in UTF-8
BODY_LIMIT = 10 * 1024 * 1024  # the reranker's default MAX_BODY_BYTES
MANY_DOCUMENTS = 1000  # the reranker's default MAX_DOCUMENTS
QUERY = "who wrote dune"
ANSWERED = (200, 413, 503)  # what the server may answer under this load


def body_of(documents: int, limit: int = BODY_LIMIT) -> bytes:
    """A request of `documents` equal documents of WIDE_CHAR, as long as fits under `limit`."""
    def encode(chars: int) -> bytes:
        text = WIDE_CHAR * chars
        return json.dumps({"query": QUERY, "documents": [text] * documents, "property": ""},
                          ensure_ascii=False).encode()

    overhead = len(encode(0))
    chars = (limit - 1 - overhead) // (4 * documents)
    return encode(chars)


BODIES = {"many": lambda limit: body_of(MANY_DOCUMENTS, limit),
          "one": lambda limit: body_of(1, limit)}


@dataclass
class Answer:
    """One client's request: the status (None: no answer) and how long it took."""

    body: str
    status: int | None
    seconds: float
    problem: str = ""  # a 503 without Retry-After, a non-JSON error, the exception


@dataclass
class HostileResult:
    idle_rss: int
    peak_rss: int
    answers: list[Answer] = field(default_factory=list)
    ordinary_before: float = 0.0
    ordinary_after: float = 0.0
    stopped_at: int = 0  # the RSS at which the server was killed (0: it was not)
    probes: probes.ProbeResult | None = None  # the health probes during the attack

    @property
    def growth(self) -> int:
        return self.peak_rss - self.idle_rss

    @property
    def slowest(self) -> float:
        return max((a.seconds for a in self.answers), default=0.0)

    def statuses(self) -> Counter:
        return Counter("no answer" if a.status is None else a.status for a in self.answers)


def post(url: str, body: bytes, timeout: float) -> tuple[int, dict[str, str], bytes]:
    """POST /rerank the whole body on a new connection, without a Content-Type (as Weaviate)."""
    host, port = check_loopback(url)
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("POST", "/rerank", body=body)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def check_answer(status: int, headers: dict[str, str], payload: bytes) -> str:
    """What is wrong with an answer, or ''. Errors are JSON {"error": ...}; a 503 says when
    to come back (Retry-After)."""
    if status == 200:
        return ""
    try:
        error = json.loads(payload)["error"]
    except (ValueError, KeyError, TypeError):
        return f"HTTP {status} without a JSON error: {payload[:80]!r}"
    if status == 503 and "Retry-After" not in headers:
        return f"503 without Retry-After: {error}"
    return ""


def one_client(url: str, label: str, body: bytes, timeout: float, start: threading.Event
               ) -> Answer:
    start.wait()
    started = time.monotonic()
    try:
        status, headers, payload = post(url, body, timeout)
    except (OSError, http.client.HTTPException) as exc:
        return Answer(label, None, time.monotonic() - started, f"{type(exc).__name__}: {exc}")
    return Answer(label, status, time.monotonic() - started, check_answer(status, headers, payload))


def attack(url: str, pid: int, bodies: dict[str, bytes], *, clients: int = 64,
           timeout: float = 150.0, rss_limit: int | None = None,
           stop: Callable[[], None] | None = None, probe_seconds: float = 30.0
           ) -> HostileResult:
    """`clients` requests at once, taking the bodies in turn; the server tree's RSS meanwhile,
    and the health probes' latency over the first `probe_seconds` (0: none). `stop()` is
    called, once, if the tree's RSS passes `rss_limit` bytes."""
    result = HostileResult(idle_rss=tree_rss(pid), peak_rss=0)
    labels = list(bodies)
    answers: list[Answer | None] = [None] * clients
    start = threading.Event()

    def run(index: int) -> None:
        label = labels[index % len(labels)]
        answers[index] = one_client(url, label, bodies[label], timeout, start)

    threads = [threading.Thread(target=run, args=(i,), name=f"hostile-{i}", daemon=True)
               for i in range(clients)]
    with PeakSampler(pid) as sampler, ExitStack() as stack:
        probed = (stack.enter_context(probes.probing(url, probe_seconds, delay=0.0))
                  if probe_seconds else None)
        for thread in threads:
            thread.start()
        start.set()
        while any(thread.is_alive() for thread in threads):
            if rss_limit and stop and not result.stopped_at and sampler.peak > rss_limit:
                result.stopped_at = sampler.peak
                stop()
            time.sleep(0.2)
        if probed is not None:
            result.probes = probes.ProbeResult(clients, probe_seconds)
            result.probes.take(probed.result())
    result.peak_rss = sampler.peak
    result.answers = [a or Answer("?", None, timeout, "client thread did not finish")
                      for a in answers]
    return result


def ordinary_seconds(url: str, corpus) -> float:
    """One ordinary request (the bench's first 32 documents of its first query), timed."""
    query = corpus.queries[0]
    started = time.monotonic()
    Client(url).rerank(query.text, query.documents[:CHUNK])
    return time.monotonic() - started


MB = 1024 * 1024
GOALS = {"growth_bytes": 1024 * MB, "slowest_seconds": 60.0, "ordinary_seconds": 1.0}


def verdict(result: HostileResult) -> list[str]:
    """The targets of issue 25 that this run missed (empty: all met)."""
    missed = []
    if result.growth > GOALS["growth_bytes"]:
        missed.append(f"RSS grew {result.growth / MB:.0f} MB (> 1024 MB)")
    late = [a for a in result.answers if a.status not in ANSWERED
            or a.seconds > GOALS["slowest_seconds"]]
    if late:
        missed.append(f"{len(late)} request(s) not answered 200/413/503 within 60 s")
    wrong = [a for a in result.answers if a.problem and a.status is not None]
    if wrong:
        missed.append(f"{len(wrong)} malformed answer(s): {wrong[0].problem}")
    if result.probes is not None:
        missed += probes.verdict(result.probes)
    if result.stopped_at:
        missed.append(f"the server was stopped at {result.stopped_at / MB:.0f} MB of RSS")
    elif result.ordinary_after > GOALS["ordinary_seconds"]:
        missed.append(f"the ordinary request afterwards took {result.ordinary_after:.2f} s (> 1 s)")
    return missed


def lines(label: str, result: HostileResult, bodies: dict[str, bytes]) -> list[str]:
    """The report: memory, answers, times, and the verdict."""
    sizes = ", ".join(f"{name} {len(body) / MB:.2f} MB" for name, body in bodies.items())
    statuses = ", ".join(f"{status}: {count}" for status, count in
                         sorted(result.statuses().items(), key=lambda kv: str(kv[0])))
    by_body = {name: max((a.seconds for a in result.answers if a.body == name), default=0.0)
               for name in bodies}
    missed = verdict(result)
    out = [f"hostile {label}: {len(result.answers)} clients at once ({sizes})",
           f"  RSS of the server's process tree: idle {result.idle_rss / MB:.0f} MB, peak "
           f"{result.peak_rss / MB:.0f} MB, growth {result.growth / MB:+.0f} MB",
           f"  answers: {statuses}",
           "  slowest answer: " + ", ".join(f"{name} {s:.1f} s" for name, s in by_body.items()),
           f"  an ordinary request (32 documents): {result.ordinary_before:.2f} s before, "
           + ("none after (the server was stopped)" if result.stopped_at
              else f"{result.ordinary_after:.2f} s after"),
           *([f"  health probes over the first {result.probes.seconds:g} s:",
              *probes.probe_lines(result.probes)] if result.probes is not None else []),
           "  -> " + ("PASS" if not missed else "FAIL: " + "; ".join(missed))]
    problems = [a.problem for a in result.answers if a.problem]
    if problems:
        out.append("  first problems: " + "; ".join(problems[:3]))
    return out
