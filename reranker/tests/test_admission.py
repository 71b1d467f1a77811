"""Admission control on its own: bytes in flight, a bounded queue, the deadline."""

from __future__ import annotations

import threading
import time

import pytest

from reranker.admission import Admission, Overloaded


def waiting(admission: Admission, count: int) -> None:
    """Block until `count` requests wait in the queue (the threads have got there)."""
    for _ in range(10_000):
        if admission.queued == count:
            return
        time.sleep(0.001)
    raise AssertionError(f"{admission.queued} waiting, expected {count}")


def admit_in_thread(admission: Admission, cost: int, got: list) -> threading.Thread:
    def run() -> None:
        try:
            got.append(admission.admit(cost))
        except Overloaded as exc:
            got.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_requests_are_admitted_while_their_bytes_fit():
    admission = Admission(max_bytes=100, max_queued=4, timeout=10)
    first, second = admission.admit(60), admission.admit(40)
    assert (admission.in_flight, admission.bytes_in_flight, admission.queued) == (2, 100, 0)
    admission.release(first)
    admission.release(first)  # twice is once
    assert (admission.in_flight, admission.bytes_in_flight) == (1, 40)
    admission.release(second)
    assert (admission.in_flight, admission.bytes_in_flight) == (0, 0)


def test_a_request_over_the_bytes_waits_until_others_are_answered():
    admission = Admission(max_bytes=100, max_queued=4, timeout=10)
    held = admission.admit(80)
    got: list = []
    thread = admit_in_thread(admission, 50, got)
    waiting(admission, 1)
    assert got == [] and admission.in_flight == 1
    admission.release(held)
    thread.join(10)
    [ticket] = got
    assert ticket.cost == 50 and admission.bytes_in_flight == 50 and admission.queued == 0


def test_the_queue_is_first_come_first_served():
    admission = Admission(max_bytes=100, max_queued=4, timeout=10)
    first, second = admission.admit(60), admission.admit(40)
    got: list = []
    big = admit_in_thread(admission, 90, got)
    waiting(admission, 1)
    small = admit_in_thread(admission, 5, got)
    waiting(admission, 2)
    admission.release(second)
    # 5 bytes would fit now, beside the 60; but the 90 came first and does not fit yet
    assert (admission.queued, admission.in_flight, admission.bytes_in_flight) == (2, 1, 60)
    admission.release(first)
    big.join(10)
    small.join(10)
    assert sorted(t.cost for t in got) == [5, 90] and admission.queued == 0


def test_a_request_larger_than_the_bound_is_admitted_alone():
    admission = Admission(max_bytes=10, max_queued=4, timeout=10)
    ticket = admission.admit(1000)
    assert admission.bytes_in_flight == 1000
    admission.release(ticket)


def test_a_full_queue_refuses_at_once():
    admission = Admission(max_bytes=10, max_queued=1, timeout=10)
    held = admission.admit(10)
    got: list = []
    thread = admit_in_thread(admission, 10, got)
    waiting(admission, 1)
    with pytest.raises(Overloaded, match=r"1 request\(s\) already wait.*MAX_QUEUED") as caught:
        admission.admit(1)
    assert caught.value.reason == "queue_full"
    admission.release(held)
    thread.join(10)
    assert got[0].cost == 10


def test_no_queue_refuses_whatever_does_not_fit():
    admission = Admission(max_bytes=10, max_queued=0, timeout=10)
    admission.admit(10)
    with pytest.raises(Overloaded) as caught:
        admission.admit(1)
    assert caught.value.reason == "queue_full"


def test_a_request_waits_at_most_the_deadline():
    admission = Admission(max_bytes=10, max_queued=4, timeout=0.05)
    held = admission.admit(10)
    with pytest.raises(Overloaded, match=r"not admitted within 0.05 s \(QUEUE_TIMEOUT\)") as caught:
        admission.admit(5)
    assert caught.value.reason == "timeout"
    assert (admission.queued, admission.in_flight) == (0, 1)  # it left the queue
    admission.release(held)
    assert admission.admit(5).cost == 5


def test_a_waiter_that_gives_up_lets_the_next_one_in():
    admission = Admission(max_bytes=100, max_queued=4, timeout=0.05)
    admission.admit(60)
    got: list = []
    head = admit_in_thread(admission, 100, got)  # cannot fit beside the 60; gives up
    waiting(admission, 1)
    admission.timeout = 10  # the next one waits longer
    behind = admit_in_thread(admission, 40, got)  # fits, but comes behind the head
    head.join(10)
    behind.join(10)
    assert isinstance(got[0], Overloaded) and got[1].cost == 40


def test_the_ticket_carries_the_deadline_of_its_arrival():
    admission = Admission(max_bytes=10, max_queued=4, timeout=20)
    before = time.monotonic()
    ticket = admission.admit(1)
    assert before + 20 <= ticket.deadline <= time.monotonic() + 20


def test_a_waiter_that_is_dropped_leaves_the_queue_at_once():
    from reranker.watch import CLIENT_GONE, Dropped, Watch

    admission = Admission(max_bytes=100, max_queued=4, timeout=60)
    held = admission.admit(80)
    watch, got = Watch(), []

    def run() -> None:
        try:
            got.append(admission.admit(50, watch))
        except Dropped as exc:
            got.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    waiting(admission, 1)
    watch.drop(CLIENT_GONE)
    thread.join(10)
    [error] = got
    assert isinstance(error, Dropped) and error.reason == CLIENT_GONE
    assert (admission.queued, admission.in_flight, admission.bytes_in_flight) == (0, 1, 80)
    admission.release(held)


def test_a_waiter_admitted_as_it_is_dropped_gives_its_place_back():
    from reranker.watch import CLIENT_GONE, Dropped, Watch

    admission = Admission(max_bytes=100, max_queued=4, timeout=60)
    held = admission.admit(80)
    watch, got = Watch(), []
    # Its client goes as the request before it is answered: both wake it at once.
    watch.dropped.add_done_callback(lambda _: admission.release(held))
    thread = threading.Thread(target=lambda: got.append(
        pytest.raises(Dropped, admission.admit, 50, watch)))
    thread.start()
    waiting(admission, 1)
    watch.drop(CLIENT_GONE)
    thread.join(10)
    assert len(got) == 1
    assert (admission.queued, admission.in_flight, admission.bytes_in_flight) == (0, 0, 0)
