"""The coalescer's bounds: a pass holds at most `max_pairs` pairs and `max_tokens` tokens (the
first request too), and a request not started by its deadline is refused, never scored."""

from __future__ import annotations

import threading
import time

import pytest

from reranker.admission import Overloaded
from reranker.engines.batching import Coalescer, text_tokens


class Recorder:
    """Scores a pair as its document's length; records every pass; may hold one pass."""

    def __init__(self, hold_pass: int | None = None) -> None:
        self.passes: list[list[tuple[str, str]]] = []
        self.hold_pass = hold_pass
        self.entered, self.release = threading.Event(), threading.Event()

    def __call__(self, pairs, _wanted):
        if len(self.passes) == self.hold_pass:
            self.entered.set()
            assert self.release.wait(10)
        self.passes.append(list(pairs))
        return [float(len(d)) for _, d in pairs]


@pytest.fixture
def coalescers():
    made: list[Coalescer] = []

    def make(scorer, **kwargs) -> Coalescer:
        made.append(Coalescer(scorer, gather_seconds=0, **kwargs))
        return made[-1]

    yield make
    for coalescer in made:
        coalescer.close()


def test_the_first_request_is_split_by_the_pair_budget(coalescers):
    scorer = Recorder()
    documents = ["x" * n for n in range(7)]
    assert coalescers(scorer, max_pairs=3).score("q", documents) == [float(n) for n in range(7)]
    assert [len(p) for p in scorer.passes] == [3, 3, 1]


def test_the_first_request_is_split_by_the_token_budget(coalescers):
    scorer = Recorder()
    # "q" + 4 characters: 5 tokens at most each pair; 12 per pass -> 2 pairs a pass
    documents = ["abcd"] * 5
    assert coalescers(scorer, max_tokens=12).score("q", documents) == [4.0] * 5
    assert [len(p) for p in scorer.passes] == [2, 2, 1]


def test_a_pair_over_the_token_budget_is_a_pass_of_its_own(coalescers):
    scorer = Recorder()
    documents = ["a", "b" * 100, "c"]
    assert coalescers(scorer, max_tokens=10).score("q", documents) == [1.0, 100.0, 1.0]
    assert [[d for _, d in p] for p in scorer.passes] == [["a"], ["b" * 100], ["c"]]


def test_tokens_are_counted_as_utf8_bytes_no_token_being_shorter():
    assert text_tokens("dune") == 4
    assert text_tokens("é") == 2
    assert text_tokens("\U00020000" * 3) == 12  # byte-level BPE: up to a token per byte
    assert text_tokens("\ud800") == 3  # a lone surrogate (JSON allows "\ud800") counts too


def test_sibling_chunks_still_share_a_pass_within_the_budgets(coalescers):
    scorer = Recorder(hold_pass=0)
    coalescer = coalescers(scorer, max_pairs=256)
    results: dict[int, list[float]] = {}

    def send(index: int, documents) -> threading.Thread:
        thread = threading.Thread(target=lambda: results.__setitem__(
            index, coalescer.score("q", documents)))
        thread.start()
        return thread

    threads = [send(0, ["x"])]
    assert scorer.entered.wait(10)
    threads += [send(i, ["y" * i] * 32) for i in (1, 2, 3)]
    while coalescer._queue.qsize() < 3:  # noqa: SLF001 - the three wait behind the first
        time.sleep(0.001)
    scorer.release.set()
    for thread in threads:
        thread.join(10)
    assert [len(p) for p in scorer.passes] == [1, 96]
    assert results == {0: [1.0], 1: [1.0] * 32, 2: [2.0] * 32, 3: [3.0] * 32}


def test_a_request_not_started_by_its_deadline_is_refused_and_never_scored(coalescers):
    scorer = Recorder(hold_pass=0)
    coalescer = coalescers(scorer)
    first: list = []
    thread = threading.Thread(target=lambda: first.append(coalescer.score("busy", ["a"])))
    thread.start()
    assert scorer.entered.wait(10)
    with pytest.raises(Overloaded, match=r"did not start on it within QUEUE_TIMEOUT") as caught:
        coalescer.score("late", ["b", "c"], deadline=time.monotonic() + 0.05)
    assert caught.value.reason == "timeout"
    scorer.release.set()
    thread.join(10)
    assert first == [[1.0]]
    assert coalescer.score("after", ["dd"]) == [2.0]
    assert [q for p in scorer.passes for q, _ in p] == ["busy", "after"]


def test_a_request_already_started_finishes_past_its_deadline(coalescers):
    scorer = Recorder(hold_pass=1)  # its second pass is held past the deadline
    coalescer = coalescers(scorer, max_pairs=1)
    threading.Timer(0.2, scorer.release.set).start()
    assert coalescer.score("q", ["a", "bb"], deadline=time.monotonic() + 0.05) == [1.0, 2.0]


def test_a_refused_request_lets_go_of_its_texts(coalescers):
    scorer = Recorder(hold_pass=0)
    coalescer = coalescers(scorer)
    thread = threading.Thread(target=coalescer.score, args=("busy", ["a"]))
    thread.start()
    assert scorer.entered.wait(10)
    with pytest.raises(Overloaded):
        coalescer.score("late", ["b" * 1000], deadline=time.monotonic() + 0.01)
    waiting = [coalescer._queue.get_nowait()]  # noqa: SLF001 - what the worker will find
    assert all(not job.pairs for job in waiting), "the refused request's texts are still held"
    for job in waiting:
        coalescer._queue.put(job)  # noqa: SLF001
    scorer.release.set()
    thread.join(10)


def test_a_sibling_started_where_none_of_its_pairs_fit_is_scored_in_the_next_pass(coalescers):
    scorer = Recorder(hold_pass=0)
    coalescer = coalescers(scorer, max_tokens=10)
    results: dict[str, list[float]] = {}

    def send(name: str, query: str, documents) -> threading.Thread:
        thread = threading.Thread(target=lambda: results.__setitem__(
            name, coalescer.score(query, documents)), daemon=True)  # a hang fails, not stalls
        thread.start()
        return thread

    threads = [send("busy", "other", ["x"])]
    assert scorer.entered.wait(10)
    threads.append(send("a", "q", ["abcd"]))  # 5 tokens: leaves 5 of the pass's 10
    while coalescer._queue.qsize() < 1:  # noqa: SLF001
        time.sleep(0.001)
    threads.append(send("b", "q", ["abcdefgh"]))  # 9 tokens: does not fit beside "a"
    while coalescer._queue.qsize() < 2:  # noqa: SLF001
        time.sleep(0.001)
    scorer.release.set()
    for thread in threads:
        thread.join(5)
    assert results == {"busy": [1.0], "a": [4.0], "b": [8.0]}
    assert [[d for _, d in p] for p in scorer.passes] == [["x"], ["abcd"], ["abcdefgh"]]


# --- requests nobody waits for --------------------------------------------------------------


def test_a_request_whose_client_closed_is_dropped_between_passes(coalescers):
    """A real connection closes while a pass of its request runs: no later pass takes any of
    its pairs, its caller gets Dropped, and the requests behind it are scored."""
    from test_request_watch import connection

    from reranker.watch import CLIENT_GONE, Dropped, Watcher

    scorer = Recorder(hold_pass=0)
    coalescer = coalescers(scorer, max_pairs=2)  # its 6 documents: 3 passes
    watcher = Watcher(request_timeout=0, period=0.01)
    with connection() as (client, server):
        watch = watcher.watch(server)
        got: list = []

        def send() -> None:
            try:
                got.append(coalescer.score("gone", ["a", "bb", "ccc", "dddd", "e", "f"],
                                           watch=watch))
            except Dropped as exc:
                got.append(exc)

        thread = threading.Thread(target=send, daemon=True)
        thread.start()
        assert scorer.entered.wait(10)  # its first pass runs
        client.close()
        assert watch.dropped.result(timeout=10) == CLIENT_GONE
        thread.join(10)  # its caller leaves at once, the pass still held
        [error] = got
        assert isinstance(error, Dropped) and error.reason == CLIENT_GONE
        scorer.release.set()
        assert coalescer.score("next", ["xy"]) == [2.0]
        watcher.forget(watch)
    assert [[d for _, d in p] for p in scorer.passes] == [["a", "bb"], ["xy"]]


def test_a_dropped_request_waiting_for_the_model_leaves_at_once_unscored(coalescers):
    from reranker.watch import DEADLINE, Dropped, Watch

    scorer = Recorder(hold_pass=0)
    coalescer = coalescers(scorer)
    thread = threading.Thread(target=coalescer.score, args=("busy", ["a"]), daemon=True)
    thread.start()
    assert scorer.entered.wait(10)
    watch = Watch(None, request_timeout=60)
    threading.Timer(0.05, watch.drop, args=(DEADLINE,)).start()
    with pytest.raises(Dropped, match=r"REQUEST_TIMEOUT \(60 s\)"):
        coalescer.score("waits", ["b", "c"], watch=watch)
    scorer.release.set()
    thread.join(10)
    assert coalescer.score("after", ["dd"]) == [2.0]
    assert [q for p in scorer.passes for q, _ in p] == ["busy", "after"]


def test_a_pass_skips_what_only_dropped_requests_wanted_and_keeps_the_rest(coalescers):
    """Sibling chunks share a pass; one is dropped during it: the micro-batches it alone
    needs are skipped (`wanted`), the other sibling gets every score."""
    from reranker.watch import CLIENT_GONE, Dropped, Watch

    asked: list[list[bool]] = []
    entered, release = threading.Event(), threading.Event()
    dropped_one, kept_one = Watch(), Watch()

    def scorer(pairs, wanted):
        if pairs[0][0] == "busy":
            entered.set()
            assert release.wait(10)
        else:
            dropped_one.drop(CLIENT_GONE)  # during the siblings' pass
            asked.append([wanted([i]) for i in range(len(pairs))])
        return [float(len(d)) for _, d in pairs]

    coalescer = coalescers(scorer)
    threads = [threading.Thread(target=coalescer.score, args=("busy", ["x"]), daemon=True)]
    threads[0].start()
    assert entered.wait(10)
    results: dict[str, object] = {}

    def send(name: str, documents, watch: Watch) -> None:
        try:
            results[name] = coalescer.score("q", documents, watch=watch)
        except Dropped as exc:
            results[name] = exc.reason

    for name, documents, watch in (("dropped", ["a", "b"], dropped_one),
                                   ("kept", ["ccc"], kept_one)):
        threads.append(threading.Thread(target=send, args=(name, documents, watch),
                                        daemon=True))
        threads[-1].start()
        while coalescer._queue.qsize() < len(threads) - 1:  # noqa: SLF001
            time.sleep(0.001)
    release.set()
    for thread in threads:
        thread.join(10)
    assert asked == [[False, False, True]]
    assert results == {"dropped": CLIENT_GONE, "kept": [3.0]}
