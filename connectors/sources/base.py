"""The Source protocol: list objects and read their bytes."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import BinaryIO, Protocol, runtime_checkable

from mmingest.schemas.errors import ObjectTooLarge
from mmingest.schemas.objects import ObjectInfo


@dataclass(frozen=True)
class Blob:
    """An object's bytes and the user metadata stored with it (e.g. ``x-amz-meta-caption``)."""

    data: bytes
    metadata: Mapping[str, str] = field(default_factory=dict)


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
        """Fail fast (ConfigError / AuthenticationFailed / SourceUnavailable) if unusable."""
        ...

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Objects whose key starts with ``prefix``, in lexicographic key order."""
        ...

    def uri_of(self, key: str) -> str:
        """The absolute URI of ``key`` (also for keys that were not listed)."""
        ...

    async def read(self, key: str, *, max_bytes: int | None = None) -> Blob:
        """The content of ``key``; :class:`ObjectTooLarge` beyond ``max_bytes``.

        Raises :class:`~mmingest.schemas.errors.ObjectVanished` when the key does not exist.
        """
        ...

    def open(self, key: str) -> BinaryIO:
        """A seekable binary file over ``key``, for readers that stream (catalogs)."""
        ...

    def close(self) -> None:
        """Release connections and file handles."""
        ...


def decode_metadata(metadata: Mapping[str, str]) -> dict[str, str]:
    """User metadata with lowercase names and RFC 2047 encoded words decoded.

    HTTP headers carry ASCII only, so S3 returns a non-ASCII value (a caption with an
    accent) as encoded words such as ``=?UTF-8?B?Y2Fmw6k=?=``; a caption must reach the
    collection as the text it was. Values that are not encoded words are kept as they are.
    """
    return {name.lower(): _decoded(value) for name, value in metadata.items()}


def _decoded(value: str) -> str:
    if "=?" not in value or "?=" not in value:
        return value
    from email.errors import HeaderParseError
    from email.header import decode_header, make_header

    try:
        return str(make_header(decode_header(value)))
    except (HeaderParseError, LookupError, UnicodeDecodeError, ValueError):
        return value  # looked like encoded words but was not: the value is the text


def check_size(key: str, size: int, max_bytes: int | None) -> None:
    """Refuse an object larger than ``max_bytes`` before reading it."""
    if max_bytes is not None and size > max_bytes:
        raise ObjectTooLarge(f"{key} is {size:,} bytes, over the limit of {max_bytes:,}")
