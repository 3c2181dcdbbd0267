"""Rules every store applies the same way: recorded specs, spec checks and alias checks.

Each store records the :class:`CollectionSpec` a collection was created with inside the store
itself (a file, collection metadata, properties or description: see each backend), as the
JSON object built by :func:`spec_record`, and checks it with :func:`check_spec`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from pydantic import ValidationError

from mmingest.schemas.collection import CollectionSpec
from mmingest.schemas.errors import (
    CapabilityMissing,
    CollectionNotFound,
    ConfigError,
    SchemaMismatch,
)
from mmingest.schemas.points import StoredPoint

RECORD_KEY = "mmingest"
"""Key (or prefix) under which stores keep the record in their native metadata."""

RECORD_VERSION = 1


def spec_record(spec: CollectionSpec, **extra: Any) -> dict[str, Any]:
    """The JSON-able record of a collection's spec (plus store-specific facts in ``extra``)."""
    return {"version": RECORD_VERSION, "spec": spec.model_dump(mode="json"), **extra}


def spec_from_record(record: Mapping[str, Any] | None, *, name: str) -> CollectionSpec | None:
    """The spec in ``record``; None when there is no record (a collection mmingest did not
    create). A damaged record is a :class:`SchemaMismatch`, never silently ignored."""
    if not record or "spec" not in record:
        return None
    try:
        return CollectionSpec.model_validate(record["spec"])
    except ValidationError as error:
        raise SchemaMismatch(
            f"collection {name!r} has a damaged mmingest spec record ({error.error_count()} "
            "problems): restore it, or re-ingest into a new collection"
        ) from error


def check_spec(
    existing: CollectionSpec | None, wanted: CollectionSpec, *, name: str, where: str
) -> None:
    """Raise :class:`SchemaMismatch` unless ``existing`` records the same vector space.

    ``name`` is the collection that was found (an alias's target when ``wanted.name`` is an
    alias); ``where`` names the store (a path or URL) for the message.
    """
    via = f" (alias {wanted.name!r})" if name != wanted.name else ""
    if existing is None:
        raise SchemaMismatch(
            f"collection {name!r}{via} in {where} was not created by mmingest (it has no "
            "recorded spec): choose another collection name (MMINGEST_COLLECTION)"
        )
    problems = existing.differences(wanted)
    if problems:
        raise SchemaMismatch(
            f"collection {name!r}{via} in {where} was created for a different vector space "
            f"({'; '.join(problems)}): write to a new collection (MMINGEST_COLLECTION), or "
            "re-embed into a new collection and swap an alias to it"
        )


def not_found(name: str, where: str) -> CollectionNotFound:
    """The error for a collection (or alias) that does not exist."""
    return CollectionNotFound(
        f"collection {name!r} does not exist in {where}: ingest into it first, or check "
        "MMINGEST_COLLECTION and the store settings (MMINGEST_STORE__*)"
    )


def check_alias_target(
    alias: str,
    collection: str,
    *,
    collections: Collection[str],
    aliases: Mapping[str, str],
    where: str,
) -> None:
    """Refuse alias changes that would make names ambiguous or point nowhere."""
    if alias == collection:
        raise ConfigError(f"alias {alias!r} cannot point at a collection of the same name")
    if collection in aliases:
        raise ConfigError(
            f"{collection!r} is an alias (of {aliases[collection]!r}) in {where}: point "
            f"{alias!r} at a collection, not at another alias"
        )
    if collection not in collections:
        raise not_found(collection, where)
    if alias in collections:
        raise ConfigError(
            f"{alias!r} is a collection in {where}, so it cannot also be an alias: name the "
            "versions differently (e.g. products_v1, products_v2) and use the alias for readers"
        )


def check_droppable(collection: str, aliases: Mapping[str, str], where: str) -> None:
    """Refuse to drop an alias or a collection that an alias still points to."""
    if collection in aliases:
        raise ConfigError(
            f"{collection!r} is an alias in {where}: delete the alias, or drop the collection "
            f"it points to ({aliases[collection]!r}) once no alias points there"
        )
    live = sorted(alias for alias, target in aliases.items() if target == collection)
    if live:
        raise ConfigError(
            f"collection {collection!r} in {where} is still the target of alias "
            f"{', '.join(map(repr, live))}: swap the alias to another collection first"
        )


def no_vectorizer(store: str) -> CapabilityMissing:
    """The error for a vectorize probe sent to a store that does not embed queries itself."""
    return CapabilityMissing(
        f"{store} does not vectorize queries itself (no server-side vectorizer): embed the "
        "query text or image and pass dense probes"
    )


SCAN_FIELDS = ("content_hash", "source_uri", "kind")
"""Payload fields a scan reads: what reconciliation with the source needs."""


def stored_point(point_id: str, payload: Mapping[str, Any]) -> StoredPoint:
    """A scan entry from a point's id and (partial) payload."""
    return StoredPoint(
        id=point_id,
        content_hash=str(payload.get("content_hash") or ""),
        source_uri=str(payload.get("source_uri") or ""),
        kind=str(payload.get("kind") or ""),
    )
