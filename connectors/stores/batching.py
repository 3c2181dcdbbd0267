"""Split an upsert into requests a store accepts, and retry only what a retry needs.

Retries are layered on purpose: the pipeline retries a whole ``upsert`` call with backoff
(``pipelines/retry.py``), so a store does not retry a call that failed on its first request
(the caller's policy handles an unreachable store). Once part of a call has been written, a
transient failure of a later request is retried here a few times, so a blip does not make the
caller resend what already landed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from mmingest.schemas.errors import TransientError
from mmingest.schemas.points import Point

log = logging.getLogger(__name__)

T = TypeVar("T")

FOLLOW_UP_ATTEMPTS = 3
_BASE_DELAY_S = 0.25


def estimated_bytes(point: Point) -> int:
    """A cheap upper-bound guess of a point's size on the wire (JSON is the worst case)."""
    size = 256 + len(point.keyword_text or "") * 2 + len(point.image_data or b"") * 4 // 3
    for vector in point.vectors.values():
        size += vector.size * 12  # a float32 printed as JSON text
    for key, value in point.payload.items():
        size += len(key) + len(str(value))
    return size


def request_batches(
    points: Sequence[T],
    *,
    max_points: int,
    max_bytes: int,
    size: Callable[[T], int],
) -> Iterator[list[T]]:
    """Consecutive slices of ``points`` with at most ``max_points`` items and ``max_bytes``
    estimated bytes each (a single larger item travels alone)."""
    batch: list[T] = []
    batch_bytes = 0
    for item in points:
        item_bytes = size(item)
        if batch and (len(batch) >= max_points or batch_bytes + item_bytes > max_bytes):
            yield batch
            batch, batch_bytes = [], 0
        batch.append(item)
        batch_bytes += item_bytes
    if batch:
        yield batch


def send_all(
    batches: Iterator[list[T]] | Sequence[list[T]],
    send: Callable[[list[T]], None],
    *,
    what: str,
    attempts: int = FOLLOW_UP_ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Send every batch; retry transient failures of the second and later batches."""
    for index, batch in enumerate(batches):
        attempt = 1
        while True:
            try:
                send(batch)
                break
            except TransientError as error:
                if index == 0 or attempt >= attempts:
                    raise
                wait = _BASE_DELAY_S * 2 ** (attempt - 1)
                log.warning(
                    "%s: request %d failed after earlier ones were written (%s); retry %d/%d "
                    "in %.2fs",
                    what,
                    index + 1,
                    error,
                    attempt,
                    attempts - 1,
                    wait,
                )
                sleep(wait)
                attempt += 1
