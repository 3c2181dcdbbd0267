"""In-memory state of one collection: schema view, tenants and per-shard objects."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Any

from .errors import EmulatorError, Invalid, NotFound, no_such_prop

LEGACY_VECTOR = "default"
ACTIVE = "ACTIVE"


def now_ms() -> int:
    """Current wall-clock time in milliseconds, Weaviate's timestamp unit."""
    return int(time.time() * 1000)


@dataclass
class StoredObject:
    """One object as stored in a shard (properties already validated and normalized)."""

    uuid: str
    properties: dict[str, Any]
    vectors: dict[str, list[float] | list[list[float]]]
    created_ms: int
    updated_ms: int
    doc_id: int


@dataclass
class VectorSpace:
    """A named vector (or the legacy unnamed one) of a collection."""

    name: str
    distance: str
    vectorizer: str
    index_type: str


@dataclass
class Shard:
    """Objects of one collection (non multi-tenant) or of one tenant."""

    name: str
    objects: dict[str, StoredObject] = field(default_factory=dict)
    dims: dict[str, int] = field(default_factory=dict)
    next_doc_id: int = 0

    def check_dims(self, vectors: dict[str, Any]) -> None:
        """Reject a vector whose length differs from the first one stored under its name."""
        for name, vec in vectors.items():
            if not vec or isinstance(vec[0], list):
                continue
            known = self.dims.get(name)
            if known is not None and known != len(vec):
                raise Invalid(
                    f"Validate vector index for [{name}]: new node has a vector with length "
                    f"{len(vec)}. Existing nodes have vectors with length {known}"
                )

    def put(self, obj: StoredObject) -> None:
        """Insert or replace ``obj`` (dimensions must have been checked)."""
        old = self.objects.get(obj.uuid)
        if old is not None:
            obj.created_ms = old.created_ms
            obj.doc_id = old.doc_id
        else:
            obj.doc_id = self.next_doc_id
            self.next_doc_id += 1
        self.objects[obj.uuid] = obj
        for name, vec in obj.vectors.items():
            if vec and not isinstance(vec[0], list):
                self.dims.setdefault(name, len(vec))

    def delete(self, uuid: str) -> bool:
        """Remove an object; forget vector dimensions once the shard is empty."""
        removed = self.objects.pop(uuid, None) is not None
        if not self.objects:
            self.dims.clear()
        return removed


class Collection:
    """A Weaviate class: effective schema, verbatim create body, tenants and shards."""

    def __init__(self, raw: dict[str, Any], config: dict[str, Any]) -> None:
        self.raw = copy.deepcopy(raw)
        self.config = config
        self.shards: dict[str, Shard] = {}
        self.tenants: dict[str, str] = {}
        if not self.multi_tenant:
            self.shards[""] = Shard(name=f"{self.name.lower()}_shard0")

    @property
    def name(self) -> str:
        """The class name (first letter upper-cased)."""
        return str(self.config["class"])

    @property
    def multi_tenant(self) -> bool:
        """Whether multi-tenancy is enabled."""
        return bool(self.config["multiTenancyConfig"]["enabled"])

    @property
    def props(self) -> dict[str, dict[str, Any]]:
        """Properties by name."""
        return {p["name"]: p for p in self.config.get("properties", [])}

    def prop(self, name: str) -> dict[str, Any]:
        """A property by name, or Weaviate's 'no such prop' error."""
        found = self.props.get(name) or self.props.get(name[:1].lower() + name[1:])
        if found is None:
            raise no_such_prop(name, self.name)
        return found

    def data_type(self, name: str) -> str:
        """Primitive data type of a property (``"cref"`` for references)."""
        dt = self.prop(name)["dataType"]
        return "cref" if dt[0][:1].isupper() else str(dt[0])

    def text_props(self) -> list[dict[str, Any]]:
        """Searchable text/text[] properties, the default BM25 fields."""
        return [
            p
            for p in self.config.get("properties", [])
            if p["dataType"][0] in ("text", "text[]") and p.get("indexSearchable", True)
        ]

    @property
    def vector_spaces(self) -> dict[str, VectorSpace]:
        """Named vectors, or ``{"default": ...}`` for a legacy single-vector class."""
        named = self.config.get("vectorConfig")
        if named:
            return {
                name: VectorSpace(
                    name=name,
                    distance=entry["vectorIndexConfig"].get("distance", "cosine"),
                    vectorizer=next(iter(entry["vectorizer"])),
                    index_type=entry["vectorIndexType"],
                )
                for name, entry in named.items()
            }
        return {
            LEGACY_VECTOR: VectorSpace(
                name=LEGACY_VECTOR,
                distance=self.config["vectorIndexConfig"].get("distance", "cosine"),
                vectorizer=str(self.config.get("vectorizer", "none")),
                index_type=str(self.config.get("vectorIndexType", "hnsw")),
            )
        }

    @property
    def named_vectors(self) -> bool:
        """True for collections defined with ``vectorConfig``."""
        return bool(self.config.get("vectorConfig"))

    def shard(self, tenant: str | None, *, wrap: str = "") -> Shard:
        """The shard a request addresses, enforcing Weaviate's multi-tenancy rules."""
        tenant = tenant or ""
        if self.multi_tenant:
            if not tenant:
                raise EmulatorError(
                    f"{wrap}class {self.name} has multi-tenancy enabled, but request was "
                    "without tenant"
                )
            status = self.tenants.get(tenant)
            if status is None:
                raise NotFound(f'{wrap}tenant not found: "{tenant}"')
            if status != ACTIVE:
                raise EmulatorError(f"{wrap}tenant not active: '{tenant}'")
            return self.shards[tenant]
        if tenant:
            raise EmulatorError(
                f"{wrap}class {self.name} has multi-tenancy disabled, but request was with tenant"
            )
        return self.shards[""]

    def all_shards(self) -> list[Shard]:
        """Every shard (one per tenant for multi-tenant classes)."""
        return list(self.shards.values())
