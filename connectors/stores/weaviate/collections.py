"""Collections, aliases and tenants on Weaviate."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from weaviate.classes.tenants import Tenant

from mmingest.connectors.stores import records
from mmingest.connectors.stores.weaviate import schema
from mmingest.connectors.stores.weaviate.errors import translate
from mmingest.schemas.collection import CollectionSpec
from mmingest.schemas.config import WeaviateStoreConfig
from mmingest.schemas.errors import CapabilityMissing

log = logging.getLogger(__name__)

T = TypeVar("T")


def key(name: str) -> str:
    """The form names are compared in: Weaviate capitalizes first letters, so ``products``
    and ``Products`` are one collection; mmingest writes them with a lowercase first letter."""
    return schema.public_name(schema.class_name(name))


class WeaviateCollections:
    """The collection, alias and tenant half of
    :class:`~mmingest.connectors.stores.weaviate.WeaviateStore`.

    The spec is recorded in the class description. Aliases (Weaviate 1.32+) are resolved on
    every call, so readers follow a swap at once; ``client.alias.update`` swaps atomically.
    """

    _client: Any
    _where: str
    _config: WeaviateStoreConfig
    _aliases_supported: bool
    _specs: dict[str, CollectionSpec]
    _tenants: dict[str, set[str]]

    def _call(self, action: str, collection: str, call: Callable[[], T]) -> T:
        try:
            return call()
        except Exception as error:
            raise translate(error, action, collection, self._where) from error

    # --- names -----------------------------------------------------------------------------

    def _alias_target(self, weaviate_name: str) -> str | None:
        if not self._aliases_supported:
            return None
        found = self._call(
            "read alias", weaviate_name, lambda: self._client.alias.get(alias_name=weaviate_name)
        )
        return None if found is None else str(found.collection)

    def _class_of(self, name: str) -> str:
        """The Weaviate class that ``name`` (a collection or an alias) stands for."""
        weaviate_name = schema.class_name(name)
        return self._alias_target(weaviate_name) or weaviate_name

    def _classes(self) -> dict[str, CollectionSpec | None]:
        """Every class and the spec it records (None: not an mmingest collection)."""
        listed = self._call(
            "list collections", "", lambda: self._client.collections.list_all(simple=True)
        )
        return {name: schema.spec_of(c.description, name=name) for name, c in listed.items()}

    def _recorded(self, weaviate_name: str) -> tuple[bool, CollectionSpec | None]:
        exists = self._call(
            "check", weaviate_name, lambda: self._client.collections.exists(weaviate_name)
        )
        if not exists:
            return False, None
        config = self._call(
            "read",
            weaviate_name,
            lambda: self._client.collections.use(weaviate_name).config.get(simple=True),
        )
        return True, schema.spec_of(config.description, name=weaviate_name)

    def _spec(self, weaviate_name: str) -> CollectionSpec:
        spec = self._specs.get(weaviate_name)  # a class's spec never changes: safe to cache
        if spec is None:
            spec = self._recorded(weaviate_name)[1]
            if spec is None:
                raise records.not_found(schema.public_name(weaviate_name), self._where)
            self._specs[weaviate_name] = spec
        return spec

    # --- collections -----------------------------------------------------------------------

    def ensure_collection(self, spec: CollectionSpec) -> None:
        """Create the (multi-tenant) collection, or check its recorded spec."""
        weaviate_name = self._class_of(spec.name)
        exists, existing = self._recorded(weaviate_name)
        shown = schema.public_name(weaviate_name)
        if not exists and weaviate_name != schema.class_name(spec.name):
            raise records.not_found(shown, self._where)
        if not exists:
            arguments = schema.collection_arguments(spec, self._config)
            try:
                self._client.collections.create(**arguments)
            except Exception as error:
                exists, existing = self._recorded(weaviate_name)
                if not exists:  # not a concurrent create: a real failure
                    raise translate(error, "create the collection", shown, self._where) from error
            else:
                log.info("created collection %s in Weaviate at %s", weaviate_name, self._where)
                existing = spec
        name = existing.name if existing is not None else shown
        records.check_spec(existing, spec, name=name, where=self._where)
        if existing is not None:
            self._specs[weaviate_name] = existing

    def collection_spec(self, collection: str) -> CollectionSpec | None:
        """The recorded spec of ``collection`` (or of an alias's target), or None."""
        return self._recorded(self._class_of(collection))[1]

    def list_collections(self) -> list[str]:
        """Collections that record an mmingest spec (by the name they were created with)."""
        return sorted(spec.name for spec in self._classes().values() if spec is not None)

    def drop_collection(self, collection: str) -> None:
        """Delete a collection (refused for aliases and aliased collections)."""
        records.check_droppable(key(collection), self.list_aliases(), self._where)
        weaviate_name = schema.class_name(collection)
        self._call("drop", collection, lambda: self._client.collections.delete(weaviate_name))
        self._specs.pop(weaviate_name, None)
        self._tenants.pop(weaviate_name, None)

    # --- aliases -------------------------------------------------------------------------------

    def _require_aliases(self) -> None:
        if not self._aliases_supported:
            raise CapabilityMissing(
                f"Weaviate at {self._where} is older than 1.32 and has no collection aliases: "
                "upgrade it to swap collections atomically"
            )

    def list_aliases(self) -> dict[str, str]:
        """Every alias and its collection (names as mmingest writes them)."""
        if not self._aliases_supported:
            return {}
        listed = self._call("list aliases", "", lambda: self._client.alias.list_all())
        specs = self._classes()

        def name_of(weaviate_name: str) -> str:
            spec = specs.get(weaviate_name)
            return spec.name if spec is not None else schema.public_name(weaviate_name)

        return {schema.public_name(a.alias): name_of(a.collection) for a in listed.values()}

    def resolve(self, name: str) -> str:
        """An alias's collection, else ``name``."""
        target = self._alias_target(schema.class_name(name))
        if target is None:
            return name
        spec = self._recorded(target)[1]
        return spec.name if spec is not None else schema.public_name(target)

    def set_alias(self, alias: str, collection: str) -> None:
        """Create ``alias``, or swap it atomically to ``collection``."""
        self._require_aliases()
        aliases = self.list_aliases()
        names = {
            key(spec.name) if spec else schema.public_name(c) for c, spec in self._classes().items()
        }
        records.check_alias_target(
            key(alias), key(collection), collections=names, aliases=aliases, where=self._where
        )
        alias_name, target = schema.class_name(alias), schema.class_name(collection)
        if key(alias) in aliases:
            change = lambda: self._client.alias.update(  # noqa: E731
                alias_name=alias_name, new_target_collection=target
            )
        else:
            change = lambda: self._client.alias.create(  # noqa: E731
                alias_name=alias_name, target_collection=target
            )
        self._call(f"point alias {alias!r} at", collection, change)

    def delete_alias(self, alias: str) -> None:
        """Remove ``alias`` if it exists."""
        self._require_aliases()
        alias_name = schema.class_name(alias)
        if self._alias_target(alias_name) is not None:
            self._call(
                "delete alias", alias, lambda: self._client.alias.delete(alias_name=alias_name)
            )

    # --- tenants -------------------------------------------------------------------------------

    def _tenant_names(self, weaviate_name: str) -> set[str]:
        """The collection's tenants, read from the server."""
        found = self._call(
            "list tenants",
            weaviate_name,
            lambda: self._client.collections.use(weaviate_name).tenants.get(),
        )
        self._tenants[weaviate_name] = set(found)
        return set(found)

    def _ensure_tenants(self, weaviate_name: str, tenants: Iterable[str]) -> None:
        """Create the tenants that do not exist yet (first use of a tenant)."""
        wanted = set(tenants)
        if wanted <= self._tenants.get(weaviate_name, set()):
            return
        missing = wanted - self._tenant_names(weaviate_name)
        if missing:
            self._call(
                "create tenants",
                weaviate_name,
                lambda: self._client.collections.use(weaviate_name).tenants.create(
                    [Tenant(name=name) for name in sorted(missing)]
                ),
            )
            self._tenants[weaviate_name] |= missing

    def _tenants_of(self, weaviate_name: str, tenant: str | None) -> list[str]:
        """The Weaviate tenants an operation restricted to ``tenant`` covers (None: all)."""
        existing = self._tenant_names(weaviate_name)
        if tenant is None:
            return sorted(existing)
        if not schema.TENANT_NAME.match(tenant):
            return []  # Weaviate cannot hold such a tenant, so it has no points
        return [tenant] if tenant in existing else []
