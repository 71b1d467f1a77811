import pytest

from weaviate_dev.core.errors import WaitTimeout
from weaviate_dev.core.waiting import wait_until


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_returns_the_time_it_took_once_ready():
    clock, answers = FakeClock(), iter(["starting", "starting", None])
    took = wait_until(lambda: next(answers), what="x", timeout=10, interval=1,
                      clock=clock, sleep=clock.sleep, progress=lambda _: None)
    assert took == 2


def test_timeout_names_what_the_last_reason_and_the_logs():
    clock = FakeClock()
    with pytest.raises(WaitTimeout) as info:
        wait_until(lambda: "HTTP 503", what="the reranker", timeout=3, interval=1,
                   clock=clock, sleep=clock.sleep, logs=lambda: "model loading...",
                   progress=lambda _: None)
    message = str(info.value)
    assert "the reranker" in message and "HTTP 503" in message
    assert "model loading..." in message
    assert clock.now == 3


def test_progress_is_reported_while_waiting():
    clock, lines = FakeClock(), []
    with pytest.raises(WaitTimeout):
        wait_until(lambda: "not yet", what="w", timeout=12, interval=1,
                   clock=clock, sleep=clock.sleep, progress=lines.append)
    assert len(lines) == 2 and "not yet" in lines[0]
