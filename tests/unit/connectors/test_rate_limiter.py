"""The client-side quota: requests and tokens per window, in flight included."""

from __future__ import annotations

import threading
import time

import pytest

from mmingest.connectors.embedders.remote import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_requests_wait_for_the_oldest_reply_to_leave_the_window():
    clock = Clock()
    limiter = RateLimiter(requests=2, window_s=10, clock=clock)
    for _ in range(2):
        limiter.release(limiter.acquire(), sent=True)
    assert limiter._wait_needed(0) == pytest.approx(10)
    clock.now += 4
    assert limiter._wait_needed(0) == pytest.approx(6)
    clock.now += 6
    assert limiter._wait_needed(0) == 0


def test_requests_in_flight_count_until_they_end():
    limiter = RateLimiter(requests=1, window_s=10, clock=Clock())
    permit = limiter.acquire()
    assert limiter._wait_needed(0) is None  # only the request in flight ending can help
    limiter.release(permit, sent=False)  # never reached the provider: frees its slot at once
    assert limiter._wait_needed(0) == 0


def test_tokens_are_estimated_then_settled_with_what_the_provider_counted():
    clock = Clock()
    limiter = RateLimiter(tokens=100, window_s=60, clock=clock)
    permit = limiter.acquire(80)
    assert limiter._wait_needed(30) is None
    limiter.release(permit, tokens=20)  # the provider counted fewer than estimated
    assert limiter._wait_needed(80) == 0
    limiter.release(limiter.acquire(80), tokens=80)
    assert limiter._wait_needed(1) == pytest.approx(60)
    clock.now += 61
    big = limiter.acquire(500)  # over the whole quota: it goes alone in an empty window
    assert limiter._wait_needed(1) is None
    limiter.release(big)


def test_a_retry_after_pauses_every_caller():
    clock = Clock()
    limiter = RateLimiter(clock=clock)
    limiter.pause(3)
    assert limiter._wait_needed(0) == pytest.approx(3)
    clock.now += 3
    assert limiter._wait_needed(0) == 0


def test_threads_never_exceed_the_quota_in_any_window():
    limiter = RateLimiter(requests=4, window_s=0.2)
    sent: list[tuple[float, float]] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(3):
            permit = limiter.acquire()
            started = time.monotonic()
            time.sleep(0.01)
            ended = time.monotonic()  # before release: the limiter's own reply time is later
            limiter.release(permit)
            with lock:
                sent.append((started, ended))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(sent) == 12
    # A request started within 0.2 s of another's reply shares that reply's window.
    for started, _ in sent:
        overlapping = [1 for s, end in sent if s <= started < end + 0.2]
        assert len(overlapping) <= 4


def test_invalid_quotas_are_refused():
    with pytest.raises(ValueError, match="requests"):
        RateLimiter(requests=0)
    with pytest.raises(ValueError, match="window"):
        RateLimiter(requests=1, window_s=0)
