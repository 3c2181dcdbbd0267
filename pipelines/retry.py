"""Retry transient failures with exponential backoff and jitter, honouring Retry-After."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from mmingest.schemas.errors import RateLimited, TransientError, capped_wait

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry a transient failure."""

    attempts: int = 5
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0

    def delay(self, attempt: int, error: TransientError) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        wait = capped_wait(error.retry_after) if isinstance(error, RateLimited) else None
        if wait is not None:
            return wait
        ceiling = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)  # jitter spreads retries of parallel workers


DEFAULT_RETRY = RetryPolicy()


def call_with_retry(
    action: Callable[[], T],
    *,
    what: str,
    policy: RetryPolicy = DEFAULT_RETRY,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``action``, retrying :class:`TransientError` up to ``policy.attempts`` times.

    Terminal errors propagate at once; the last transient error propagates when attempts run
    out, for the caller to dead-letter what it was doing.
    """
    attempt = 1
    while True:
        try:
            return action()
        except TransientError as error:
            if attempt >= policy.attempts:
                raise
            wait = policy.delay(attempt, error)
            log.warning(
                "%s failed (%s); retry %d/%d in %.1fs",
                what,
                error,
                attempt,
                policy.attempts - 1,
                wait,
            )
            sleep(wait)
            attempt += 1


async def acall_with_retry(
    action: Callable[[], Awaitable[T]],
    *,
    what: str,
    policy: RetryPolicy = DEFAULT_RETRY,
) -> T:
    """The async twin of :func:`call_with_retry` (sleeps without blocking the event loop)."""
    attempt = 1
    while True:
        try:
            return await action()
        except TransientError as error:
            if attempt >= policy.attempts:
                raise
            wait = policy.delay(attempt, error)
            log.warning(
                "%s failed (%s); retry %d/%d in %.1fs",
                what,
                error,
                attempt,
                policy.attempts - 1,
                wait,
            )
            await asyncio.sleep(wait)
            attempt += 1
