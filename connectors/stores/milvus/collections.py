"""Collections and aliases on Milvus: creation with a recorded spec, loading, atomic swaps."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any, TypeVar

from pymilvus import MilvusClient

from mmingest.connectors.stores import records
from mmingest.connectors.stores.milvus import schema
from mmingest.connectors.stores.milvus.errors import translate
from mmingest.schemas.collection import CollectionSpec, validate_collection_name
from mmingest.schemas.errors import ConfigError

log = logging.getLogger(__name__)

T = TypeVar("T")

_MILVUS_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def milvus_name(name: str) -> str:
    """``name`` if Milvus accepts it as a collection or alias name, else ``ConfigError``."""
    validate_collection_name(name)
    if not _MILVUS_NAME.match(name):
        raise ConfigError(
            f"Milvus names allow letters, digits and '_' only, not {name!r}: use "
            f"{name.replace('-', '_')!r} (MMINGEST_COLLECTION)"
        )
    return name


class MilvusCollections:
    """The collection and alias half of :class:`~mmingest.connectors.stores.milvus.MilvusStore`.

    The spec is recorded as JSON in the collection property ``mmingest.spec`` (Milvus Lite
    drops collection descriptions, properties survive). Swapping an alias is Milvus's
    ``alter_alias``, one atomic call.
    """

    _client: MilvusClient
    _where: str
    _timeout: float
    _consistency: str
    _index_type: str
    _specs: dict[str, CollectionSpec]

    def _call(self, action: str, collection: str, call: Callable[[], T]) -> T:
        try:
            return call()
        except Exception as error:
            raise translate(error, action, collection, self._where) from error

    # --- collections ---------------------------------------------------------------------------

    def _exists(self, name: str) -> bool:
        return bool(
            self._call(
                "check", name, lambda: self._client.has_collection(name, timeout=self._timeout)
            )
        )

    def _recorded(self, name: str) -> tuple[bool, CollectionSpec | None]:
        """Whether collection ``name`` exists, and the spec it records."""
        if not self._exists(name):
            return False, None
        described = self._call(
            "describe", name, lambda: self._client.describe_collection(name, timeout=self._timeout)
        )
        raw = (described.get("properties") or {}).get(schema.SPEC_PROPERTY)
        return True, records.spec_from_record(json.loads(raw) if raw else None, name=name)

    def ensure_collection(self, spec: CollectionSpec) -> None:
        """Create the collection, or check that the existing one records the same spec."""
        name = self.resolve(milvus_name(spec.name))
        exists, existing = self._recorded(name)
        if not exists and name != spec.name:
            raise records.not_found(name, self._where)
        if not exists:
            try:
                self._client.create_collection(
                    name,
                    schema=schema.build_schema(spec),
                    consistency_level=self._consistency,
                    properties={schema.SPEC_PROPERTY: json.dumps(records.spec_record(spec))},
                    timeout=self._timeout,
                )
            except Exception as error:
                exists, existing = self._recorded(name)
                if not exists:  # not a concurrent create: a real failure
                    raise translate(error, "create the collection", name, self._where) from error
            else:
                log.info("created collection %s in Milvus at %s", name, self._where)
                existing = spec
        records.check_spec(existing, spec, name=name, where=self._where)
        if existing is not None:
            self._load(name, existing)
            self._specs[spec.name] = self._specs[name] = existing

    def _load(self, name: str, spec: CollectionSpec) -> None:
        """Make a collection searchable: index it if it is not (a create interrupted before
        its indexes, or a fresh one), then load it (a reopened Milvus Lite file, or a
        released collection)."""
        state = self._call(
            "check the load state of",
            name,
            lambda: self._client.get_load_state(name, timeout=self._timeout),
        )
        if str(state.get("state")) == "Loaded":
            return
        indexed = set(self._call("list indexes", name, lambda: self._client.list_indexes(name)))
        missing = schema.build_indexes(self._client, spec, self._index_type, skip=indexed)
        if len(missing):
            # Indexes of an empty collection build at once; without sync=False pymilvus would
            # sleep 0.5 s per index before looking.
            self._call(
                "index",
                name,
                lambda: self._client.create_index(name, missing, timeout=self._timeout, sync=False),
            )
        self._call("load", name, lambda: self._client.load_collection(name, timeout=self._timeout))

    def collection_spec(self, collection: str) -> CollectionSpec | None:
        """The recorded spec of ``collection`` (or of an alias's target), or None."""
        return self._recorded(self.resolve(collection))[1]

    def list_collections(self) -> list[str]:
        """Collections that record an mmingest spec."""
        names = self._call(
            "list collections", "", lambda: self._client.list_collections(timeout=self._timeout)
        )
        return sorted(name for name in names if self._recorded(name)[1] is not None)

    def drop_collection(self, collection: str) -> None:
        """Delete a collection (refused for aliases and aliased collections)."""
        records.check_droppable(collection, self.list_aliases(), self._where)
        if self._exists(collection):
            self._call(
                "drop",
                collection,
                lambda: self._client.drop_collection(collection, timeout=self._timeout),
            )
        self._specs.pop(collection, None)

    def _spec(self, collection: str) -> CollectionSpec:
        # Cached per name: an alias swapped by another process keeps this process on the old
        # target's layout (vector names, keyword channel) until it reopens the store.
        spec = self._specs.get(collection)
        if spec is None:
            name = self.resolve(collection)
            spec = self._recorded(name)[1]
            if spec is None:
                raise records.not_found(collection, self._where)
            self._load(name, spec)
            self._specs[collection] = spec
        return spec

    # --- aliases -------------------------------------------------------------------------------

    def _alias_names(self) -> list[str]:
        listed: Any = self._call(
            "list aliases", "", lambda: self._client.list_aliases(timeout=self._timeout)
        )
        return list(listed.get("aliases") or [])

    def _target(self, alias: str) -> str:
        described: Any = self._call(
            "describe alias",
            alias,
            lambda: self._client.describe_alias(alias, timeout=self._timeout),
        )
        return str(described["collection_name"])

    def list_aliases(self) -> dict[str, str]:
        """Every alias and its collection."""
        return {alias: self._target(alias) for alias in self._alias_names()}

    def resolve(self, name: str) -> str:
        """An alias's collection, else ``name``."""
        return self._target(name) if name in self._alias_names() else name

    def set_alias(self, alias: str, collection: str) -> None:
        """Create ``alias``, or swap it atomically with ``alter_alias``."""
        milvus_name(alias)
        aliases = self.list_aliases()
        names = self._call(
            "list collections", "", lambda: self._client.list_collections(timeout=self._timeout)
        )
        records.check_alias_target(
            alias, collection, collections=set(names), aliases=aliases, where=self._where
        )
        change = self._client.alter_alias if alias in aliases else self._client.create_alias
        self._call(
            f"point alias {alias!r} at",
            collection,
            lambda: change(collection, alias, timeout=self._timeout),
        )
        self._specs.pop(alias, None)

    def delete_alias(self, alias: str) -> None:
        """Remove ``alias`` if it exists."""
        if alias in self._alias_names():
            self._call(
                "delete alias", alias, lambda: self._client.drop_alias(alias, timeout=self._timeout)
            )
        self._specs.pop(alias, None)
