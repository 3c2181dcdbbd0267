"""Concurrency plumbing: overlap reading and decoding with embedding, with bounded memory."""

from __future__ import annotations

import asyncio
import queue
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
        return self.submit(coroutine).result()

    def submit(self, coroutine: Coroutine[Any, Any, T]) -> Future[T]:
        """Start ``coroutine`` on the loop; its future can be waited on from any thread."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)

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


class _Raised:
    """An exception travelling from a worker thread to the consumer."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


_DONE = object()
_POLL_S = 0.1


def parallel_batches(
    tasks: Iterable[A],
    run: Callable[[A], Iterable[B]],
    *,
    workers: int,
    depth: int,
) -> Iterator[B]:
    """Results of ``run`` over ``tasks``, produced by worker threads, in completion order.

    ``tasks`` is consumed on its own thread (a slow listing overlaps with everything else);
    each task may yield several results (a long PDF yields its pages a batch at a time). At
    most ``depth`` results wait for the consumer, so memory stays bounded. The first exception
    raised anywhere stops every thread and is re-raised here; closing the iterator early
    stops them too.
    """
    todo: queue.Queue[Any] = queue.Queue(maxsize=max(2, workers * 2))
    done: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(channel: queue.Queue[Any], item: Any) -> bool:
        while not stop.is_set():
            try:
                channel.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def plan() -> None:
        try:
            for task in tasks:
                if not put(todo, task):
                    return
        except BaseException as error:  # handed to the consumer, which re-raises it
            put(done, _Raised(error))
        finally:
            for _ in range(workers):
                put(todo, _DONE)

    def work() -> None:
        try:
            while not stop.is_set():
                try:
                    task = todo.get(timeout=_POLL_S)
                except queue.Empty:
                    continue
                if task is _DONE:
                    return
                for result in run(task):
                    if not put(done, result):
                        return
        except BaseException as error:
            put(done, _Raised(error))
        finally:
            put(done, _DONE)

    threads = [threading.Thread(target=plan, name="mmingest-plan", daemon=True)]
    threads += [
        threading.Thread(target=work, name=f"mmingest-prep-{index}", daemon=True)
        for index in range(workers)
    ]
    for thread in threads:
        thread.start()
    finished = 0
    try:
        while finished < workers:
            item = done.get()
            if item is _DONE:
                finished += 1
            elif isinstance(item, _Raised):
                raise item.error
            else:
                yield item
    finally:
        stop.set()
        for thread in threads:
            thread.join()
