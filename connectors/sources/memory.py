"""An in-memory source (``memory://name``) for tests and benchmarks."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from threading import Lock

from schemas.errors import ObjectVanished
from schemas.objects import ObjectInfo

_BUCKETS: dict[str, dict[str, bytes]] = {}
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

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``."""
        with _LOCK:
            self._objects[key] = data

    def delete(self, key: str) -> None:
        """Remove ``key`` (missing keys are ignored)."""
        with _LOCK:
            self._objects.pop(key, None)

    def clear(self) -> None:
        """Remove every object of this bucket."""
        with _LOCK:
            self._objects.clear()

    def precheck(self) -> None:
        """Memory buckets always exist."""

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Objects whose key starts with ``prefix``, in key order."""
        with _LOCK:
            keys = sorted(key for key in self._objects if key.startswith(prefix))
        for key in keys:
            data = self._objects.get(key)
            if data is None:
                continue
            yield ObjectInfo(
                uri=f"{self._uri}/{key}",
                key=key,
                size=len(data),
                etag=hashlib.md5(data, usedforsecurity=False).hexdigest(),
            )

    async def read(self, obj: ObjectInfo) -> bytes:
        """The object's bytes."""
        data = self._objects.get(obj.key)
        if data is None:
            raise ObjectVanished(f"{obj.uri} was deleted after it was listed")
        return data

    def close(self) -> None:
        """Nothing to release."""
