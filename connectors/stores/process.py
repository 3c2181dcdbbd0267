"""A vector store held by a child process of its own.

An embedded engine's Python binding may hold the interpreter lock while it converts payloads
and writes (Qdrant Edge does): the pipeline's own threads then take turns with it instead of
running beside it, and their work adds up with the store's. In a child process the store's
conversion and writes run in parallel with reading, embedding and building the next points,
and an engine that dies (a SIGBUS on a full disk, the OOM killer) fails the calls in flight
with a clear error instead of killing the run's process.

Every call is one request and one reply over a pipe, in order, one at a time. Points travel
in columns (one matrix per vector name), which costs a few microseconds a point on each side.
"""

from __future__ import annotations

import logging
import multiprocessing
import pickle
import signal
import threading
from collections.abc import Iterator, Sequence
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from mmingest.connectors.stores.base import StoreCapabilities, VectorStore
from mmingest.schemas.collection import CollectionSpec
from mmingest.schemas.errors import MmingestError, StorageFault
from mmingest.schemas.points import Point, StoredPoint
from mmingest.schemas.query import Hit, HybridQuery
from mmingest.schemas.trusted import trusted

log = logging.getLogger(__name__)

SCAN_PAGE = 4096
"""Stored points a scan brings over per request."""

REQUEST_POINTS = 1024
"""Points an upsert request carries at most (the writer's chunk: ``capabilities.max_batch``).
The child writes them in the store's own chunks: fewer, larger requests keep the child busy
while the run's process waits for its turn at the interpreter lock between two requests."""

_STARTUP_CHECK_S = 0.5

PackedPoints = tuple[
    list[str],
    list[dict[str, Any]],
    list[str | None],
    list[bytes | None],
    dict[str, tuple[list[int] | None, np.ndarray]],
]
"""Points as columns: ids, payloads, keyword texts, image data, and per vector name the rows
that have it (None: every row) with their vectors as one matrix."""


def pack_points(points: Sequence[Point]) -> PackedPoints:
    """``points`` as columns, cheap to pickle (see :data:`PackedPoints`)."""
    rows: dict[str, list[int]] = {}
    vectors: dict[str, list[np.ndarray]] = {}
    for row, point in enumerate(points):
        for name, vector in point.vectors.items():
            if name not in rows:
                rows[name], vectors[name] = [], []
            rows[name].append(row)
            vectors[name].append(vector)
    return (
        [point.id for point in points],
        [point.payload for point in points],
        [point.keyword_text for point in points],
        [point.image_data for point in points],
        {
            name: (None if len(rows[name]) == len(points) else rows[name], np.stack(vectors[name]))
            for name in rows
        },
    )


def unpack_points(packed: PackedPoints) -> list[Point]:
    """The points :func:`pack_points` was given (their vectors are rows of one matrix)."""
    ids, payloads, keyword_texts, images, columns = packed
    vectors: list[dict[str, np.ndarray]] = [{} for _ in ids]
    for name, (rows, matrix) in columns.items():
        for row, vector in zip(range(len(ids)) if rows is None else rows, matrix, strict=True):
            vectors[row][name] = vector
    return [
        trusted(
            Point,
            {
                "id": id,
                "vectors": point_vectors,
                "keyword_text": keyword_text,
                "payload": payload,
                "image_data": image,
            },
        )
        for id, point_vectors, keyword_text, payload, image in zip(
            ids, vectors, keyword_texts, payloads, images, strict=True
        )
    ]


class ProcessStore:
    """The store ``config`` describes, opened and used in a child process.

    Implements :class:`~mmingest.connectors.stores.base.VectorStore` by forwarding each call;
    errors the store raises are raised here unchanged. Safe to share between threads (calls
    are serialised, as the embedded engines serialise them anyway). Close it to flush the
    store and end the process.
    """

    def __init__(self, config: Any, *, name: str = "store") -> None:
        context = multiprocessing.get_context("spawn")  # never fork a process running threads
        self._connection, child = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(child, config), name=f"mmingest-{name}", daemon=True
        )
        self._lock = threading.Lock()
        self._ended: str | None = None
        self._process.start()
        child.close()  # the child's end lives in the child only: its exit reads as EOF here
        try:
            inner: StoreCapabilities = self._reply("open the store")
        except BaseException:
            self._stop()
            raise
        self._capabilities = inner.model_copy(
            update={"max_batch": max(inner.max_batch, REQUEST_POINTS)}
        )

    @property
    def capabilities(self) -> StoreCapabilities:
        """The capabilities of the store in the child process."""
        return self._capabilities

    @property
    def pid(self) -> int | None:
        """The child process's id."""
        return self._process.pid

    # --- transport -----------------------------------------------------------------------------

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            if self._ended is not None:
                raise StorageFault(self._ended)
            try:
                self._connection.send((method, args, kwargs))
            except (OSError, EOFError) as error:
                raise self._lost(method) from error
            return self._reply(method)

    def _reply(self, what: str) -> Any:
        try:
            while not self._connection.poll(_STARTUP_CHECK_S):
                if not self._process.is_alive():
                    raise EOFError
            status, value = self._connection.recv()
        except (OSError, EOFError) as error:
            raise self._lost(what) from error
        if status == "raised":
            raise value
        return value

    def _lost(self, what: str) -> StorageFault:
        self._process.join(timeout=5)
        code = self._process.exitcode
        how = (
            f"was killed by {signal.Signals(-code).name}"
            if code is not None and code < 0
            else f"exited with code {code}"
        )
        self._ended = (
            f"the store process {how} during {what!r}: writes it had not confirmed are not "
            "durable; check the store's disk and memory, then run again (unchanged items are "
            "skipped)"
        )
        self._connection.close()
        return StorageFault(self._ended)

    # --- collections and aliases ---------------------------------------------------------------

    def ensure_collection(self, spec: CollectionSpec) -> None:
        """See :meth:`VectorStore.ensure_collection`."""
        self._call("ensure_collection", spec)

    def collection_spec(self, collection: str) -> CollectionSpec | None:
        """See :meth:`VectorStore.collection_spec`."""
        result: CollectionSpec | None = self._call("collection_spec", collection)
        return result

    def list_collections(self) -> list[str]:
        """See :meth:`VectorStore.list_collections`."""
        result: list[str] = self._call("list_collections")
        return result

    def drop_collection(self, collection: str) -> None:
        """See :meth:`VectorStore.drop_collection`."""
        self._call("drop_collection", collection)

    def list_aliases(self) -> dict[str, str]:
        """See :meth:`VectorStore.list_aliases`."""
        result: dict[str, str] = self._call("list_aliases")
        return result

    def resolve(self, name: str) -> str:
        """See :meth:`VectorStore.resolve`."""
        result: str = self._call("resolve", name)
        return result

    def set_alias(self, alias: str, collection: str) -> None:
        """See :meth:`VectorStore.set_alias`."""
        self._call("set_alias", alias, collection)

    def delete_alias(self, alias: str) -> None:
        """See :meth:`VectorStore.delete_alias`."""
        self._call("delete_alias", alias)

    # --- points --------------------------------------------------------------------------------

    def upsert(self, collection: str, points: Sequence[Point]) -> None:
        """See :meth:`VectorStore.upsert`: the points travel as columns and are written in the
        store's own chunks; an error's ``points_written`` says how many of the first points
        were written before it."""
        if points:
            self._call("upsert", collection, pack_points(points))

    def delete(self, collection: str, ids: Sequence[str], *, tenant: str | None = None) -> None:
        """See :meth:`VectorStore.delete`."""
        self._call("delete", collection, list(ids), tenant=tenant)

    def delete_by_source(
        self, collection: str, source_uris: Sequence[str], *, tenant: str | None = None
    ) -> None:
        """See :meth:`VectorStore.delete_by_source`."""
        self._call("delete_by_source", collection, list(source_uris), tenant=tenant)

    def fetch_hashes(
        self, collection: str, ids: Sequence[str], *, tenant: str | None = None
    ) -> dict[str, str]:
        """See :meth:`VectorStore.fetch_hashes`."""
        result: dict[str, str] = self._call("fetch_hashes", collection, list(ids), tenant=tenant)
        return result

    def scan(self, collection: str, *, tenant: str | None = None) -> Iterator[StoredPoint]:
        """See :meth:`VectorStore.scan` (brought over :data:`SCAN_PAGE` points at a time)."""
        scan_id: int = self._call("_scan_open", collection, tenant)
        finished = False
        try:
            while not finished:
                page, finished = self._call("_scan_page", scan_id)
                yield from page
        finally:
            if not finished and self._ended is None:
                self._call("_scan_close", scan_id)

    def count(self, collection: str, *, tenant: str | None = None) -> int:
        """See :meth:`VectorStore.count`."""
        result: int = self._call("count", collection, tenant=tenant)
        return result

    def query(self, collection: str, query: HybridQuery) -> list[Hit]:
        """See :meth:`VectorStore.query`."""
        result: list[Hit] = self._call("query", collection, query)
        return result

    def close(self) -> None:
        """Flush and close the store, then end the process (a second call does nothing)."""
        if self._ended is not None:
            return
        try:
            self._call("close")
        finally:
            self._ended = "the store is closed"
            self._stop()

    def _stop(self) -> None:
        self._connection.close()
        self._process.join(timeout=30)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()


# --- the child process ---------------------------------------------------------------------------


def _serve(connection: Connection, config: Any) -> None:
    """The child's loop: open the store, then answer requests until ``close``."""
    # Ctrl-C reaches the whole process group: the run's process decides what stops, and the
    # writes it still waits for must land.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from mmingest.connectors.stores import build_store

    try:
        store = build_store(config)
    except BaseException as error:
        _send(connection, "raised", error)
        return
    _send(connection, "ok", store.capabilities)
    handler = _Handler(store)
    while True:
        try:
            method, args, kwargs = connection.recv()
        except (EOFError, OSError):  # the run's process is gone: flush what was written
            try:
                store.close()
            except Exception:
                log.exception("closing the store after the run's process went away failed")
            return
        try:
            result = handler.handle(method, args, kwargs)
        except BaseException as error:
            _send(connection, "raised", error)
        else:
            _send(connection, "ok", result)
        if method == "close":
            return


class _Handler:
    """Runs one request against the store (the child's side of :class:`ProcessStore`)."""

    def __init__(self, store: VectorStore) -> None:
        self._store = store
        self._scans: dict[int, Iterator[StoredPoint]] = {}
        self._next_scan = 0

    def handle(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if method == "upsert":
            collection, packed = args
            return self._upsert(collection, unpack_points(packed))
        if method == "_scan_open":
            collection, tenant = args
            self._next_scan += 1
            self._scans[self._next_scan] = self._store.scan(collection, tenant=tenant)
            return self._next_scan
        if method == "_scan_page":
            (scan_id,) = args
            scan = self._scans[scan_id]
            page = []
            for point in scan:
                page.append(point)
                if len(page) == SCAN_PAGE:
                    return page, False
            del self._scans[scan_id]
            return page, True
        if method == "_scan_close":
            self._scans.pop(args[0], None)
            return None
        if method not in _FORWARDED:
            raise ValueError(f"the store process does not serve {method!r}")
        return getattr(self._store, method)(*args, **kwargs)

    def _upsert(self, collection: str, points: list[Point]) -> None:
        """In the store's chunks, in order; the first failure stops and says what landed."""
        size = self._store.capabilities.max_batch
        for start in range(0, len(points), size):
            try:
                self._store.upsert(collection, points[start : start + size])
            except MmingestError as error:
                error.points_written = start
                raise


_FORWARDED = frozenset(
    {
        "ensure_collection",
        "collection_spec",
        "list_collections",
        "drop_collection",
        "list_aliases",
        "resolve",
        "set_alias",
        "delete_alias",
        "delete",
        "delete_by_source",
        "fetch_hashes",
        "count",
        "query",
        "close",
    }
)


def _send(connection: Connection, status: str, value: Any) -> None:
    if status == "raised":
        value = _portable(value)
    try:
        connection.send((status, value))
    except (EOFError, OSError):
        return  # the run's process is gone
    except Exception as error:  # a reply that does not pickle: a bug, reported as one
        connection.send(("raised", RuntimeError(f"the store's reply does not pickle: {error}")))


def _portable(error: BaseException) -> BaseException:
    """``error`` if it survives pickling (mmingest's errors all do), else a RuntimeError
    naming it: the run's process must get an error it can raise, never a broken reply."""
    try:
        pickle.loads(pickle.dumps(error))  # noqa: S301 (our own bytes, this process)
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error
