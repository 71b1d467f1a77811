"""First come, first served: `FifoLock` on its own, and the torch engine that waits on it."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future

import pytest

from reranker.fifo import FifoLock


def queued(lock: FifoLock, count: int) -> None:
    """Block until `count` threads wait for the lock (they have got there)."""
    for _ in range(10_000):
        if len(lock._waiters) == count:  # noqa: SLF001
            return
        time.sleep(0.001)
    raise AssertionError(f"{len(lock._waiters)} waiting, expected {count}")  # noqa: SLF001


def test_the_lock_goes_to_the_waiters_in_the_order_they_asked():
    lock, order = FifoLock(), []
    lock.acquire()

    def take(name: str) -> None:
        with lock:
            order.append(name)

    threads = []
    for index, name in enumerate("abc"):
        threads.append(threading.Thread(target=take, args=(name,)))
        threads[-1].start()
        queued(lock, index + 1)
    lock.release()
    # The releasing thread asks again at once: it must not overtake the three that wait (a
    # threading.Lock lets it, and lets any newcomer).
    take("again")
    for thread in threads:
        thread.join(10)
    assert order == ["a", "b", "c", "again"]


def test_a_wait_ends_at_its_timeout_or_its_future_and_leaves_the_queue():
    lock = FifoLock()
    lock.acquire()
    assert lock.acquire(timeout=0.01) is False
    done: Future = Future()
    got: list[bool] = []
    thread = threading.Thread(target=lambda: got.append(lock.acquire(until=done)))
    thread.start()
    queued(lock, 1)
    done.set_result("dropped")
    thread.join(10)
    assert got == [False] and len(lock._waiters) == 0  # noqa: SLF001
    lock.release()
    assert lock.acquire(timeout=0) is True  # free again: nobody holds it
    lock.release()
    with pytest.raises(RuntimeError):
        lock.release()


def test_the_torch_engine_serves_requests_in_arrival_order(engine):
    """Requests that wait for the reference engine's model get it in the order they came."""
    order: list[str] = []
    entered, release = threading.Event(), threading.Event()
    predict = engine._model.predict  # noqa: SLF001

    def held_predict(pairs, **kwargs):
        order.append(pairs[0][0])
        if pairs[0][0] == "first":
            entered.set()
            assert release.wait(10)
        return predict(pairs, **kwargs)

    engine._model.predict = held_predict  # noqa: SLF001
    try:
        threads = [threading.Thread(target=engine.score, args=("first", ["d"]))]
        threads[0].start()
        assert entered.wait(30)
        for index, query in enumerate(["q1", "q2", "q3", "q4"]):
            threads.append(threading.Thread(target=engine.score, args=(query, ["d"])))
            threads[-1].start()
            queued(engine._lock, index + 1)  # noqa: SLF001
        release.set()
        for thread in threads:
            thread.join(30)
    finally:
        del engine._model.predict  # noqa: SLF001 - the class's own again
    assert order == ["first", "q1", "q2", "q3", "q4"]


def test_the_torch_engine_stops_a_dropped_request_before_its_next_batch(tiny_model_dir):
    from reranker.engines.crossencoder import CrossEncoderEngine
    from reranker.watch import CLIENT_GONE, Dropped, Watch

    engine = CrossEncoderEngine(tiny_model_dir, batch_size=1)
    watch, batches = Watch(), []

    def count_and_drop(_module, _args) -> None:
        batches.append(1)
        watch.drop(CLIENT_GONE)  # the client leaves during the first batch

    import torch

    # The word embeddings: run once per batch, after the engine's own check.
    embeddings = next(m for m in engine._model.modules()  # noqa: SLF001
                      if isinstance(m, torch.nn.Embedding))
    embeddings.register_forward_pre_hook(count_and_drop)
    with pytest.raises(Dropped) as caught:
        engine.score("q", ["a", "b", "c", "d", "e"], watch=watch)
    assert caught.value.reason == CLIENT_GONE
    assert len(batches) == 1  # 1 of its 5 batches ran
    assert engine.score("q", ["a", "b"]) == engine.score("q", ["a", "b"], watch=Watch())
