"""A client-side quota: at most N requests and T tokens in any window, shared by threads.

Providers count quotas over a window (requests or tokens per minute). Rather than bouncing off
429s, callers take a permit before each request and wait while the window is full. A request is
counted from the moment it is sent until one window after its reply arrived: the provider
received it no later than that, so its own window has let go of it by then too, and a client
keeping to this never exceeds a sliding-window quota whatever the network delay.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from mmingest.schemas.errors import capped_wait


@dataclass
class Permit:
    """Leave to send one request carrying an estimated number of tokens."""

    tokens: int
    released: bool = False


class RateLimiter:
    """Requests and tokens per window, counting requests in flight; thread-safe.

    ``requests`` or ``tokens`` of None leaves that dimension unlimited. A request estimated
    above the whole token quota still goes, alone in an otherwise empty window.
    """

    def __init__(
        self,
        *,
        requests: int | None = None,
        tokens: int | None = None,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if requests is not None and requests < 1:
            raise ValueError(f"requests must be >= 1, got {requests}")
        if tokens is not None and tokens < 1:
            raise ValueError(f"tokens must be >= 1, got {tokens}")
        if window_s <= 0:
            raise ValueError(f"window_s must be > 0, got {window_s}")
        self.requests = requests
        self.tokens = tokens
        self.window_s = window_s
        self._clock = clock
        self._cond = threading.Condition()
        self._done: deque[tuple[float, int]] = deque()  # (reply time, tokens), oldest first
        self._done_tokens = 0
        self._in_flight = 0
        self._in_flight_tokens = 0
        self._paused_until = 0.0

    @property
    def enabled(self) -> bool:
        """Whether any quota is set."""
        return self.requests is not None or self.tokens is not None

    def acquire(self, tokens: int = 0) -> Permit:
        """Wait until a request of ``tokens`` fits the quota, then count it as in flight."""
        tokens = max(0, tokens)
        with self._cond:
            while True:
                wait = self._wait_needed(tokens)
                if wait is not None and wait <= 0:
                    break
                self._cond.wait(timeout=wait)
            self._in_flight += 1
            self._in_flight_tokens += tokens
        return Permit(tokens)

    def release(self, permit: Permit, *, sent: bool = True, tokens: int | None = None) -> None:
        """End ``permit``: a sent request occupies the window from now with ``tokens`` used.

        ``tokens`` are the tokens the provider reported (default: the estimate). A request
        that never reached the provider (``sent=False``) frees its slot at once.
        """
        with self._cond:
            if permit.released:
                return
            permit.released = True
            self._in_flight -= 1
            self._in_flight_tokens -= permit.tokens
            if sent:
                used = permit.tokens if tokens is None else max(0, tokens)
                self._done.append((self._clock(), used))
                self._done_tokens += used
            self._cond.notify_all()

    def pause(self, seconds: float) -> None:
        """Hold every new request for ``seconds`` (a provider said Retry-After), at most
        ``MAX_RETRY_AFTER_S``: a Retry-After of a day (or ``inf``) must not stall the run."""
        wait = capped_wait(seconds)
        if wait is None:
            return
        with self._cond:
            self._paused_until = max(self._paused_until, self._clock() + wait)
            self._cond.notify_all()

    def _expire(self, now: float) -> None:
        horizon = now - self.window_s
        while self._done and self._done[0][0] <= horizon:
            self._done_tokens -= self._done.popleft()[1]

    def _wait_needed(self, tokens: int) -> float | None:
        """Seconds until the request fits (<= 0: now; None: when a request in flight ends)."""
        now = self._clock()
        if now < self._paused_until:
            return self._paused_until - now
        self._expire(now)
        waits: list[float | None] = [0.0]
        if self.requests is not None:
            used = self._in_flight + len(self._done)
            waits.append(self._until_free(now, used + 1 - self.requests, lambda _: 1))
        if self.tokens is not None:
            used = self._in_flight_tokens + self._done_tokens
            if tokens > self.tokens:
                # Too big for any window: it goes alone, once nothing else is counted.
                if self._in_flight:
                    waits.append(None)
                elif self._done:
                    waits.append(self._done[-1][0] + self.window_s - now)
            else:
                waits.append(self._until_free(now, used + tokens - self.tokens, lambda e: e[1]))
        if any(wait is None for wait in waits):
            return None
        return max(wait for wait in waits if wait is not None)

    def _until_free(
        self, now: float, excess: int, size: Callable[[tuple[float, int]], int]
    ) -> float | None:
        """Seconds until ``excess`` units of finished requests leave the window.

        None when even the whole window emptying would not be enough: then only a request in
        flight finishing can help.
        """
        if excess <= 0:
            return 0.0
        for entry in self._done:
            excess -= size(entry)
            if excess <= 0:
                return entry[0] + self.window_s - now
        return None
