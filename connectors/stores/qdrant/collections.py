"""Collections and aliases on Qdrant: creation with a recorded spec, checks, atomic swaps."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from functools import partial
from typing import Any, TypeVar

from qdrant_client import QdrantClient, models

from mmingest.connectors.stores import records
from mmingest.connectors.stores.qdrant import convert
from mmingest.connectors.stores.qdrant.errors import translate
from mmingest.schemas.collection import CollectionSpec, validate_collection_name

log = logging.getLogger(__name__)

T = TypeVar("T")


class QdrantCollections:
    """The collection and alias half of :class:`~mmingest.connectors.stores.qdrant.QdrantStore`.

    The spec is recorded in the collection's metadata (Qdrant 1.16+) under ``mmingest``;
    alias swaps are one ``update_collection_aliases`` request (delete + create), which Qdrant
    applies atomically.
    """

    _client: QdrantClient
    _where: str
    _local: bool
    _specs: dict[str, CollectionSpec]
    _guard: AbstractContextManager[Any]

    def _call(self, action: str, collection: str, call: Callable[[], T]) -> T:
        try:
            with self._guard:
                return call()
        except Exception as error:
            raise translate(error, action, collection, self._where) from error

    # --- collections ---------------------------------------------------------------------------

    def _recorded(self, collection: str) -> tuple[bool, CollectionSpec | None]:
        """Whether ``collection`` exists, and the spec it records."""
        if not self._call("check", collection, lambda: self._client.collection_exists(collection)):
            return False, None
        info = self._call("read", collection, lambda: self._client.get_collection(collection))
        metadata = info.config.metadata or {}
        return True, records.spec_from_record(metadata.get(records.RECORD_KEY), name=collection)

    def ensure_collection(self, spec: CollectionSpec) -> None:
        """Create the collection, or check that the existing one records the same spec."""
        name = self.resolve(spec.name)
        exists, existing = self._recorded(name)
        if not exists and name != spec.name:
            raise records.not_found(name, self._where)
        if not exists:
            try:
                self._client.create_collection(
                    name,
                    vectors_config=convert.vectors_config(spec),
                    sparse_vectors_config=convert.sparse_config(spec),
                    metadata={
                        records.RECORD_KEY: records.spec_record(
                            spec, keyword_model=convert.KEYWORD_MODEL
                        )
                    },
                )
            except Exception as error:
                exists, existing = self._recorded(name)
                if not exists:  # not a concurrent create: a real failure
                    raise translate(error, "create the collection", name, self._where) from error
            else:
                self._create_indexes(name)
                log.info("created collection %s in Qdrant at %s", name, self._where)
                existing = spec
        records.check_spec(existing, spec, name=name, where=self._where)
        if existing is not None:
            self._specs[spec.name] = self._specs[name] = existing

    def _create_indexes(self, name: str) -> None:
        if self._local:  # local mode has no payload indexes (it filters by brute force)
            return
        for field, schema in convert.payload_indexes():
            self._call(f"index {field}", name, partial(self._index, name, field, schema))

    def _index(self, name: str, field: str, schema: Any) -> None:
        self._client.create_payload_index(name, field_name=field, field_schema=schema, wait=True)

    def collection_spec(self, collection: str) -> CollectionSpec | None:
        """The recorded spec of ``collection`` (or of an alias's target), or None."""
        return self._recorded(self.resolve(collection))[1]

    def list_collections(self) -> list[str]:
        """Collections that record an mmingest spec."""
        response = self._call("list collections", "", self._client.get_collections)
        names = sorted(c.name for c in response.collections)
        return [name for name in names if self._recorded(name)[1] is not None]

    def drop_collection(self, collection: str) -> None:
        """Delete a collection (refused for aliases and aliased collections)."""
        records.check_droppable(collection, self.list_aliases(), self._where)
        self._call("drop", collection, lambda: self._client.delete_collection(collection))
        self._specs.pop(collection, None)

    def _spec(self, collection: str) -> CollectionSpec:
        # Cached per name: an alias swapped by another process keeps this process on the old
        # target's layout (vector names, keyword channel) until it reopens the store.
        spec = self._specs.get(collection)
        if spec is None:
            spec = self.collection_spec(collection)
            if spec is None:
                raise records.not_found(collection, self._where)
            self._specs[collection] = spec
        return spec

    # --- aliases -------------------------------------------------------------------------------

    def list_aliases(self) -> dict[str, str]:
        """Every alias and its collection."""
        response = self._call("list aliases", "", self._client.get_aliases)
        return {alias.alias_name: alias.collection_name for alias in response.aliases}

    def resolve(self, name: str) -> str:
        """An alias's collection, else ``name``."""
        return self.list_aliases().get(name, name)

    def set_alias(self, alias: str, collection: str) -> None:
        """Create or atomically repoint ``alias`` (delete + create in one request)."""
        validate_collection_name(alias)
        aliases = self.list_aliases()
        names = {c.name for c in self._call("list", "", self._client.get_collections).collections}
        records.check_alias_target(
            alias, collection, collections=names, aliases=aliases, where=self._where
        )
        operations: list[Any] = []
        if alias in aliases:
            operations.append(
                models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=alias))
            )
        operations.append(
            models.CreateAliasOperation(
                create_alias=models.CreateAlias(collection_name=collection, alias_name=alias)
            )
        )
        self._call(
            f"point alias {alias!r} at",
            collection,
            lambda: self._client.update_collection_aliases(change_aliases_operations=operations),
        )
        self._specs.pop(alias, None)

    def delete_alias(self, alias: str) -> None:
        """Remove ``alias`` if it exists."""
        if alias not in self.list_aliases():
            return
        operation = models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=alias))
        self._call(
            "delete alias",
            alias,
            lambda: self._client.update_collection_aliases(change_aliases_operations=[operation]),
        )
        self._specs.pop(alias, None)
