"""Sources: object storage behind one protocol, chosen by URI scheme."""

from __future__ import annotations

from collections.abc import Callable

from connectors.sources.base import Source
from schemas.errors import ConfigError


def _local(uri: str) -> Source:
    from connectors.sources.local import LocalFolderSource

    return LocalFolderSource(uri)


def _memory(uri: str) -> Source:
    from connectors.sources.memory import MemorySource

    return MemorySource(uri)


SOURCES: dict[str, Callable[[str], Source]] = {
    "file": _local,
    "memory": _memory,
}
"""Source factories by URI scheme; a plain path means ``file``."""


def scheme_of(uri: str) -> str:
    """The URI scheme, ``file`` for plain paths."""
    head, sep, _ = uri.partition("://")
    return head.lower() if sep else "file"


def open_source(uri: str) -> Source:
    """The source for ``uri`` (``./images``, ``file:///data``, ``memory://name``, ...)."""
    scheme = scheme_of(uri)
    factory = SOURCES.get(scheme)
    if factory is None:
        known = ", ".join(f"{name}://" for name in sorted(SOURCES))
        raise ConfigError(f"unsupported source {uri!r}: known schemes are {known} or a local path")
    return factory(uri)


__all__ = ["SOURCES", "Source", "open_source", "scheme_of"]
