"""Schema registry: collections, aliases and tenants, guarded by one lock."""

from __future__ import annotations

import copy
import threading
from typing import Any

from .errors import EmulatorError, Invalid, NotFound, no_such_class
from .model import Collection, Shard
from .schema_defaults import CLASS_NAME, capitalize, effective_class

TENANT_STATUSES = {
    "ACTIVE": "ACTIVE",
    "HOT": "ACTIVE",
    "INACTIVE": "INACTIVE",
    "COLD": "INACTIVE",
    "OFFLOADED": "OFFLOADED",
    "FROZEN": "OFFLOADED",
}


class Registry:
    """All server state. Every public method is atomic under ``lock``."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.collections: dict[str, Collection] = {}
        self.aliases: dict[str, str] = {}

    def reset(self) -> None:
        """Drop every collection and alias."""
        with self.lock:
            self.collections.clear()
            self.aliases.clear()

    # -- collections -------------------------------------------------------------------
    def resolve(self, name: str) -> Collection:
        """A collection by name or alias (aliases resolve everywhere a name is accepted)."""
        with self.lock:
            for candidate in (name, capitalize(name)):
                if candidate in self.collections:
                    return self.collections[candidate]
                target = self.aliases.get(candidate)
                if target is not None and target in self.collections:
                    return self.collections[target]
            raise no_such_class(name)

    def create(self, raw: dict[str, Any]) -> Collection:
        """``POST /v1/schema``: validate, fill defaults, store the body verbatim."""
        config = effective_class(raw)
        with self.lock:
            name = config["class"]
            if name.lower() in (n.lower() for n in self.collections):
                raise Invalid(f'class name "{name}" already exists')
            if name in self.aliases:
                raise Invalid(f"class name {name} already used as an alias name")
            collection = Collection(raw, config)
            self.collections[name] = collection
            return collection

    def update(self, name: str, body: dict[str, Any]) -> Collection:
        """``PUT /v1/schema/{name}``: replace the mutable parts of a class definition."""
        with self.lock:
            current = self.resolve(name)
            merged = copy.deepcopy(body)
            merged["class"] = current.name
            config = effective_class(merged)
            if config["multiTenancyConfig"]["enabled"] != current.multi_tenant:
                raise Invalid("multi-tenancy enabled setting cannot be changed")
            old_props = {p["name"]: p["dataType"] for p in current.config["properties"]}
            for prop in config["properties"]:
                if prop["name"] in old_props and old_props[prop["name"]] != prop["dataType"]:
                    raise Invalid(f"property {prop['name']}: data type cannot be changed")
            current.config = config
            return current

    def delete(self, name: str) -> None:
        """``DELETE /v1/schema/{name}``: also removes aliases pointing at the class."""
        with self.lock:
            name = capitalize(name)
            if self.collections.pop(name, None) is not None:
                for alias in [a for a, c in self.aliases.items() if c == name]:
                    del self.aliases[alias]

    def add_property(self, name: str, prop: dict[str, Any]) -> dict[str, Any]:
        """``POST /v1/schema/{name}/properties``."""
        with self.lock:
            current = self.resolve(name)
            body = copy.deepcopy(current.config)
            body["properties"] = [*body["properties"], prop]
            config = effective_class(body)
            current.config["properties"] = config["properties"]
            return config["properties"][-1]

    def schema_dump(self) -> dict[str, Any]:
        """``GET /v1/schema`` payload."""
        with self.lock:
            return {"classes": [copy.deepcopy(c.config) for c in self.collections.values()]}

    # -- tenants -----------------------------------------------------------------------
    def add_tenants(self, name: str, tenants: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``POST /v1/schema/{name}/tenants``."""
        with self.lock:
            collection = self._mt_collection(name)
            out = []
            for tenant in tenants:
                tname = tenant.get("name")
                if not isinstance(tname, str) or not tname:
                    raise Invalid("tenant name must be a non-empty string")
                status = TENANT_STATUSES.get(str(tenant.get("activityStatus") or "ACTIVE"))
                if status is None:
                    raise Invalid(f"invalid activity status '{tenant.get('activityStatus')}'")
                collection.tenants.setdefault(tname, status)
                collection.shards.setdefault(tname, Shard(name=tname))
                out.append({"name": tname, "activityStatus": collection.tenants[tname]})
            return out

    def update_tenants(self, name: str, tenants: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``PUT /v1/schema/{name}/tenants`` (activity status changes)."""
        with self.lock:
            collection = self._mt_collection(name)
            for tenant in tenants:
                tname = tenant.get("name", "")
                if tname not in collection.tenants:
                    raise NotFound(f'tenant not found: "{tname}"')
                status = TENANT_STATUSES.get(str(tenant.get("activityStatus")))
                if status is None:
                    raise Invalid(f"invalid activity status '{tenant.get('activityStatus')}'")
                collection.tenants[tname] = status
            return [
                {"name": t["name"], "activityStatus": collection.tenants[t["name"]]}
                for t in tenants
            ]

    def delete_tenants(self, name: str, names: list[str]) -> None:
        """``DELETE /v1/schema/{name}/tenants``; unknown names are ignored, as in Weaviate."""
        with self.lock:
            collection = self._mt_collection(name)
            for tname in names:
                collection.tenants.pop(tname, None)
                collection.shards.pop(tname, None)

    def tenants(self, name: str) -> list[dict[str, str]]:
        """Tenants of a class with their activity status."""
        with self.lock:
            collection = self._mt_collection(name)
            return [{"name": n, "activityStatus": s} for n, s in collection.tenants.items()]

    def _mt_collection(self, name: str) -> Collection:
        collection = self.resolve(name)
        if not collection.multi_tenant:
            raise Invalid(f'multi-tenancy is not enabled for class "{collection.name}"')
        return collection

    # -- aliases -----------------------------------------------------------------------
    def create_alias(self, alias: str, target: str) -> dict[str, str]:
        """``POST /v1/aliases``."""
        with self.lock:
            alias, target = capitalize(alias), capitalize(target)
            if not CLASS_NAME.match(alias):
                raise Invalid(f"'{alias}' is not a valid alias name")
            if target not in self.collections:
                raise EmulatorError(f"class {target}: not found")
            if alias in self.aliases:
                raise Invalid(f"create alias: alias {alias} already exists")
            if alias in self.collections:
                raise Invalid(f"create alias: class {alias} already exists")
            self.aliases[alias] = target
            return {"alias": alias, "class": target}

    def replace_alias(self, alias: str, target: str) -> dict[str, str]:
        """``PUT /v1/aliases/{alias}``: an atomic swap of the alias target."""
        with self.lock:
            alias, target = capitalize(alias), capitalize(target)
            if alias not in self.aliases:
                raise NotFound(f"alias {alias} not found")
            if target not in self.collections:
                raise NotFound(f"class {target}: not found")
            self.aliases[alias] = target
            return {"alias": alias, "class": target}

    def delete_alias(self, alias: str) -> None:
        """``DELETE /v1/aliases/{alias}``."""
        with self.lock:
            if self.aliases.pop(capitalize(alias), None) is None:
                raise NotFound(f"alias {capitalize(alias)} not found")

    def get_alias(self, alias: str) -> dict[str, str]:
        """``GET /v1/aliases/{alias}``."""
        with self.lock:
            alias = capitalize(alias)
            if alias not in self.aliases:
                raise NotFound(f"alias {alias} not found")
            return {"alias": alias, "class": self.aliases[alias]}

    def list_aliases(self, class_name: str | None) -> list[dict[str, str]]:
        """``GET /v1/aliases`` with an optional ``class`` filter."""
        with self.lock:
            wanted = capitalize(class_name) if class_name else None
            return [
                {"alias": a, "class": c}
                for a, c in self.aliases.items()
                if wanted is None or c == wanted
            ]
