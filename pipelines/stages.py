"""Concurrency plumbing: overlap reading and decoding with embedding, with bounded memory."""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable, Coroutine, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import islice
from types import TracebackType
from typing import Any, TypeVar

A = TypeVar("A")
B = TypeVar("B")
T = TypeVar("T")


class AsyncRunner:
    """One event loop on a daemon thread, so synchronous code can await async reads."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="mmingest-io", daemon=True
        )
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the loop and wait for its result (from any other thread)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def close(self) -> None:
        """Stop the loop and its thread."""
        if self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def __enter__(self) -> AsyncRunner:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of at most ``size`` items."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def prefetch_map(
    function: Callable[[A], B], items: Iterable[A], *, workers: int, depth: int
) -> Iterator[B]:
    """``function`` over ``items`` on worker threads, yielded in input order.

    While the consumer works on one result, up to ``depth`` more are computed ahead, which bounds
    memory; when the consumer stops early, queued work is cancelled.
    """
    pending: deque[Future[B]] = deque()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mmingest-prep") as pool:
        try:
            for item in items:
                pending.append(pool.submit(function, item))
                if len(pending) > depth:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
