"""The Source protocol: list objects and read their bytes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable

from schemas.objects import ObjectInfo


@runtime_checkable
class Source(Protocol):
    """A bucket, container or folder of objects.

    ``list`` streams objects in lexicographic key order (the order S3, GCS and Azure list in),
    which lets the pipeline pair an image with its sidecar files without holding the listing
    in memory. ``read`` is async so many reads can be in flight on one thread.
    """

    @property
    def uri(self) -> str:
        """The root this source lists, e.g. ``file:///data/images`` or ``s3://bucket/prefix``."""
        ...

    def precheck(self) -> None:
        """Fail fast (ConfigError / SourceUnavailable) if the source cannot be listed."""
        ...

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Objects whose key starts with ``prefix``, in lexicographic key order."""
        ...

    async def read(self, obj: ObjectInfo) -> bytes:
        """The full content of ``obj``."""
        ...

    def close(self) -> None:
        """Release connections and file handles."""
        ...
