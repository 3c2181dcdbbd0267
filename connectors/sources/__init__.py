"""Sources: object storage behind one protocol, chosen by URI scheme."""

from __future__ import annotations

from collections.abc import Callable

from mmingest.connectors.extras import needs_extra
from mmingest.connectors.sources.base import Blob, Source
from mmingest.schemas.config import SourceConfig
from mmingest.schemas.errors import ConfigError


def _local(uri: str, config: SourceConfig) -> Source:
    from mmingest.connectors.sources.local import LocalFolderSource

    return LocalFolderSource(uri)


def _memory(uri: str, config: SourceConfig) -> Source:
    from mmingest.connectors.sources.memory import MemorySource

    return MemorySource(uri)


def _object_store(uri: str, config: SourceConfig) -> Source:
    from mmingest.connectors.sources.object_store import ObjectStoreSource

    return ObjectStoreSource(uri, config)


SOURCES: dict[str, Callable[[str, SourceConfig], Source]] = {
    "file": _local,
    "memory": _memory,
    "s3": _object_store,
    "gs": _object_store,
    "az": _object_store,
}
"""Source factories by URI scheme; a plain path means ``file``."""


def scheme_of(uri: str) -> str:
    """The URI scheme, ``file`` for plain paths."""
    head, sep, _ = uri.partition("://")
    return head.lower() if sep else "file"


def open_source(uri: str, config: SourceConfig | None = None) -> Source:
    """The source for ``uri`` (``./images``, ``file:///data``, ``s3://bucket/prefix``, ...)."""
    scheme = scheme_of(uri)
    factory = SOURCES.get(scheme)
    if factory is None:
        known = ", ".join(f"{name}://" for name in sorted(SOURCES))
        raise ConfigError(f"unsupported source {uri!r}: known schemes are {known} or a local path")
    with needs_extra(f"the {scheme}:// source"):
        return factory(uri, config or SourceConfig())


__all__ = ["SOURCES", "Blob", "Source", "open_source", "scheme_of"]
