"""An in-memory source (``memory://name``) for tests and benchmarks."""

from __future__ import annotations

import bisect
import hashlib
import io
from collections.abc import Iterator, Mapping
from threading import Lock
from typing import BinaryIO

from mmingest.connectors.sources.base import Blob, check_size, decode_metadata
from mmingest.schemas.errors import ObjectVanished
from mmingest.schemas.objects import ObjectInfo

_BUCKETS: dict[str, dict[str, Blob]] = {}
_SORTED: dict[str, list[str]] = {}
_LOCK = Lock()


class MemorySource:
    """Objects held in a process-wide dict, keyed by bucket name and object key.

    Buckets are shared by name, so a test can fill ``memory://photos`` and hand the URI to the
    pipeline. Listing sorts the keys, like object stores do.
    """

    def __init__(self, uri: str) -> None:
        if not uri.startswith("memory://"):
            raise ValueError(f"not a memory:// URI: {uri!r}")
        self._uri = uri.rstrip("/")
        self.bucket = self._uri.removeprefix("memory://")
        with _LOCK:
            self._objects = _BUCKETS.setdefault(self.bucket, {})

    @property
    def uri(self) -> str:
        """``memory://<bucket>``."""
        return self._uri

    def put(self, key: str, data: bytes, metadata: Mapping[str, str] | None = None) -> None:
        """Store ``data`` (and user metadata) under ``key``."""
        with _LOCK:
            self._objects[key] = Blob(data, dict(metadata or {}))
            _SORTED.pop(self.bucket, None)

    def delete(self, key: str) -> None:
        """Remove ``key`` (missing keys are ignored)."""
        with _LOCK:
            self._objects.pop(key, None)
            _SORTED.pop(self.bucket, None)

    def clear(self) -> None:
        """Remove every object of this bucket."""
        with _LOCK:
            self._objects.clear()
            _SORTED.pop(self.bucket, None)

    def precheck(self) -> None:
        """Memory buckets always exist."""

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Objects whose key starts with ``prefix``, in key order, one at a time.

        The bucket keeps its keys sorted (like an object store's index), so a listing holds
        no copy of them however many there are.
        """
        with _LOCK:
            keys = _SORTED.get(self.bucket)
            if keys is None:
                keys = _SORTED[self.bucket] = sorted(self._objects)
        for index in range(bisect.bisect_left(keys, prefix), len(keys)):
            key = keys[index]
            if not key.startswith(prefix):
                break
            blob = self._objects.get(key)
            if blob is None:
                continue
            yield ObjectInfo(
                uri=self.uri_of(key),
                key=key,
                size=len(blob.data),
                etag=hashlib.md5(blob.data, usedforsecurity=False).hexdigest(),
            )

    def uri_of(self, key: str) -> str:
        """``memory://<bucket>/<key>``."""
        return f"{self._uri}/{key}"

    async def read(self, key: str, *, max_bytes: int | None = None) -> Blob:
        """The object's bytes and metadata."""
        blob = self._objects.get(key)
        if blob is None:
            raise ObjectVanished(f"{self.uri_of(key)} does not exist (deleted after listing?)")
        check_size(key, len(blob.data), max_bytes)
        return Blob(blob.data, decode_metadata(blob.metadata))

    def open(self, key: str) -> BinaryIO:
        """The object's bytes as a file."""
        blob = self._objects.get(key)
        if blob is None:
            raise ObjectVanished(f"{self.uri_of(key)} does not exist")
        return io.BytesIO(blob.data)

    def close(self) -> None:
        """Nothing to release."""
