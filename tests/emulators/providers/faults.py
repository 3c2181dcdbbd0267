"""Fault injection and quota enforcement shared by every provider emulator.

Faults are queued in FIFO order: each incoming request takes at most one queued fault, so
``fail_next(2)`` followed by ``drop_next(1)`` fails two requests and then drops the third.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any


class FaultKind(Enum):
    """What an injected fault does to the request that takes it."""

    FAIL = "fail"  # provider-shaped error status (429, 500, 502, 503...)
    DELAY = "delay"  # sleep, then answer normally
    MALFORMED = "malformed"  # 200 with a body that is not JSON
    TRUNCATED = "truncated"  # 200 whose body stops before its Content-Length
    DROP = "drop"  # close the connection without any response
    REWRITTEN = "rewritten"  # 200 whose JSON body was rewritten (a wrong shape, bad values)


@dataclass(frozen=True)
class Fault:
    """One queued fault; ``status``/``retry_after`` apply to FAIL, ``seconds`` to DELAY,
    ``rewrite`` (the real reply body in, the body to send out) to REWRITTEN."""

    kind: FaultKind
    status: int = 0
    retry_after: float | None = None
    seconds: float = 0.0
    rewrite: Callable[[Any], Any] | None = None


class FaultQueue:
    """Thread-safe FIFO of faults, consumed one per request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: deque[Fault] = deque()

    def push(self, fault: Fault, count: int) -> None:
        """Queue ``count`` copies of ``fault`` behind the faults already queued."""
        if count < 0:
            raise ValueError(f"count must be >= 0, got {count}")
        with self._lock:
            self._queue.extend([fault] * count)

    def take(self) -> Fault | None:
        """Pop the next fault, or None when nothing is queued."""
        with self._lock:
            return self._queue.popleft() if self._queue else None

    def pending(self) -> int:
        """How many faults are still queued."""
        with self._lock:
            return len(self._queue)

    def clear(self) -> None:
        """Drop every queued fault."""
        with self._lock:
            self._queue.clear()


class SlidingWindowLimiter:
    """A requests-per-window quota over a sliding window of admitted requests.

    Only admitted requests occupy the window, so a client that keeps hammering while limited
    does not push its own recovery further out; that matches how a benchmark measures the
    share of a quota a client actually sustains.
    """

    def __init__(self, limit: int, window_seconds: float = 60.0) -> None:
        if limit < 1:
            raise ValueError(f"limit must be >= 1, got {limit}")
        if window_seconds <= 0:
            raise ValueError(f"window_seconds must be > 0, got {window_seconds}")
        self.limit = limit
        self.window_seconds = window_seconds
        self._admitted: deque[float] = deque()
        self._lock = threading.Lock()

    def admit(self, now: float | None = None) -> float | None:
        """Admit one request; return None if admitted, else seconds until a slot frees."""
        now = time.monotonic() if now is None else now
        with self._lock:
            horizon = now - self.window_seconds
            while self._admitted and self._admitted[0] <= horizon:
                self._admitted.popleft()
            if len(self._admitted) < self.limit:
                self._admitted.append(now)
                return None
            return max(self._admitted[0] + self.window_seconds - now, 0.0)


def retry_after_header(seconds: float) -> str:
    """Render a Retry-After value: whole seconds, rounded up, never below 1 for a wait."""
    if seconds <= 0:
        return "0"
    return str(max(1, math.ceil(seconds)))
