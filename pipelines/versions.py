"""Blue/green collection versions behind an alias, for re-embedding with a new model.

Readers always use the alias. A re-embed fills ``<alias>_v<N+1>`` with the new model, then
repoints the alias in one atomic store operation and drops the previous version.
"""

from __future__ import annotations

import re

from mmingest.connectors.stores.base import VectorStore
from mmingest.schemas.errors import ConfigError


def version_name(alias: str, number: int) -> str:
    """The collection holding version ``number`` of ``alias``."""
    return f"{alias}_v{number}"


def next_version(store: VectorStore, alias: str) -> str:
    """A new, unused version name for ``alias``."""
    pattern = re.compile(rf"^{re.escape(alias)}_v(\d+)$")
    numbers = [int(m.group(1)) for name in store.list_collections() if (m := pattern.match(name))]
    return version_name(alias, max(numbers, default=0) + 1)


def current_collection(store: VectorStore, alias: str) -> str | None:
    """The collection ``alias`` points to, or None if it does not exist yet."""
    if alias in store.list_aliases():
        return store.resolve(alias)
    return alias if alias in store.list_collections() else None


def promote(
    store: VectorStore, alias: str, version: str, *, drop_previous: bool = True
) -> str | None:
    """Point ``alias`` at ``version``; returns the collection it pointed to before.

    When ``alias`` is still a plain collection (the first re-embed), it is dropped before the
    alias takes its name: readers see a moment without the collection, once. Every later swap
    is atomic.
    """
    aliases = store.list_aliases()
    previous: str | None
    if alias in aliases:
        previous = aliases[alias]
        store.set_alias(alias, version)
    elif alias in store.list_collections():
        if not drop_previous:
            raise ConfigError(
                f"{alias!r} is a collection, not an alias: the first re-embed replaces it, so it "
                "cannot be kept (run again without keep_previous)"
            )
        previous = alias
        store.drop_collection(alias)
        store.set_alias(alias, version)
        return previous
    else:
        previous = None
        store.set_alias(alias, version)
    if drop_previous and previous and previous != version:
        store.drop_collection(previous)
    return previous
