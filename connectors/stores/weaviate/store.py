"""Weaviate through weaviate-client 4.x, with mmingest's vectors or a multi2vec module."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from functools import partial
from typing import Any

from weaviate.classes.query import Filter

from mmingest.connectors.stores.base import StoreCapabilities
from mmingest.connectors.stores.batching import estimated_bytes, request_batches, send_all
from mmingest.connectors.stores.records import SCAN_FIELDS, stored_point
from mmingest.connectors.stores.weaviate import convert
from mmingest.connectors.stores.weaviate.connect import connect
from mmingest.connectors.stores.weaviate.errors import translate
from mmingest.connectors.stores.weaviate.search import WeaviateSearch
from mmingest.schemas.collection import CollectionSpec
from mmingest.schemas.config import WeaviateStoreConfig
from mmingest.schemas.embedding import EmbedderInfo
from mmingest.schemas.errors import InvalidInput, StoreUnavailable
from mmingest.schemas.points import Point, StoredPoint
from mmingest.schemas.query import FusionMethod

log = logging.getLogger(__name__)

_REQUEST_OBJECTS = 1000
_REQUEST_BYTES = 16 * 1024 * 1024
_FILTER_VALUES = 1000  # ids or URIs per filter
_DELETE_LIMIT = 10_000  # Weaviate deletes at most QUERY_MAXIMUM_RESULTS objects per call
_ALIASES_SINCE = (1, 32)


def _version(text: str) -> tuple[int, int]:
    major, minor, *_ = (text.split("-")[0] + ".0.0").split(".")
    return int(major), int(minor)


class WeaviateStore(WeaviateSearch):
    """Collections on a Weaviate server (1.32+ for aliases), one Weaviate tenant per tenant.

    With ``vectorizer = "none"`` points bring named vectors ``image`` and ``caption``; with a
    multi2vec module Weaviate computes both from the ``image_data`` BLOB and the ``text``
    property, points carry ``image_data`` and queries use vectorize probes (``near_text`` /
    ``near_image``). The keyword channel is Weaviate's BM25 over ``text``. Tenants are
    Weaviate tenants, created on first use; points without a tenant go to the shared tenant.
    """

    def __init__(self, config: WeaviateStoreConfig) -> None:
        self._config = config
        self._where = config.url
        self._specs: dict[str, CollectionSpec] = {}
        self._tenants: dict[str, set[str]] = {}
        try:
            self._client = connect(config)
            version = str(self._client.get_meta().get("version", "0.0"))
        except Exception as error:
            raise translate(error, "connect", "", self._where) from error
        self._aliases_supported = _version(version) >= _ALIASES_SINCE
        vectorizer = (
            EmbedderInfo(
                provider=f"weaviate/{config.vectorizer}",
                model=config.vectorizer_model or "module-default",
                dimension=config.vectorizer_dimension or 1,
            )
            if config.vectorizer != "none"
            else None
        )
        self._capabilities = StoreCapabilities(
            native_fusion=frozenset({FusionMethod.RRF}),
            aliases=self._aliases_supported,
            server_side_vectors=vectorizer is not None,
            vectorizer=vectorizer,
            product_filters=False,  # product columns sit in an unindexed JSON property
            max_batch=_REQUEST_OBJECTS,
        )

    @property
    def capabilities(self) -> StoreCapabilities:
        """What this Weaviate (and its configuration) supports."""
        return self._capabilities

    def _tenant(self, weaviate_name: str, tenant: str) -> Any:
        return self._client.collections.use(weaviate_name).with_tenant(tenant)

    # --- writes --------------------------------------------------------------------------------

    def upsert(self, collection: str, points: Sequence[Point]) -> None:
        """Insert or replace points by id, tenant by tenant (tenants created on first use)."""
        if not points:
            return
        weaviate_name = self._class_of(collection)
        self._spec(weaviate_name)
        groups = convert.by_tenant(points, self._config.shared_tenant)
        self._ensure_tenants(weaviate_name, groups)
        for tenant, group in groups.items():
            handle = self._tenant(weaviate_name, tenant)
            batches = request_batches(
                group, max_points=_REQUEST_OBJECTS, max_bytes=_REQUEST_BYTES, size=estimated_bytes
            )
            # weaviate-client retries unavailable gRPC calls itself: no second layer here.
            send_all(
                batches,
                partial(self._insert, handle, collection=collection),
                what=f"upserting into {collection!r}",
                attempts=1,
            )

    def _insert(self, handle: Any, batch: list[Point], *, collection: str) -> None:
        with_image = self._config.vectorizer != "none"
        objects = [convert.to_object(point, with_image=with_image) for point in batch]
        result = self._call(
            f"upsert {len(batch)} points", collection, partial(handle.data.insert_many, objects)
        )
        if result.errors:
            failures = {batch[i].id: error.message for i, error in result.errors.items()}
            sample = "; ".join(f"{k}: {v}" for k, v in list(failures.items())[:3])
            problem = translate(RuntimeError(sample), "upsert", collection, self._where)
            kind = StoreUnavailable if isinstance(problem, StoreUnavailable) else InvalidInput
            raise kind(
                f"Weaviate at {self._where} rejected {len(failures)} of {len(batch)} points in "
                f"{collection!r} (the others were written): {sample}"
            )

    def _delete_where(self, collection: str, tenant: str | None, where: Any) -> None:
        weaviate_name = self._class_of(collection)
        for name in self._tenants_of(weaviate_name, tenant):
            handle = self._tenant(weaviate_name, name)
            while True:
                result = self._call(
                    "delete points", collection, partial(handle.data.delete_many, where=where)
                )
                if result.matches < _DELETE_LIMIT:
                    break

    def delete(self, collection: str, ids: Sequence[str], *, tenant: str | None = None) -> None:
        """Delete points by id (of one tenant); unknown ids are ignored."""
        for start in range(0, len(ids), _FILTER_VALUES):
            chunk = list(ids[start : start + _FILTER_VALUES])
            self._delete_where(collection, tenant, Filter.by_id().contains_any(chunk))

    def delete_by_source(
        self, collection: str, source_uris: Sequence[str], *, tenant: str | None = None
    ) -> None:
        """Delete every point of the given source objects (of one tenant)."""
        for start in range(0, len(source_uris), _FILTER_VALUES):
            chunk = list(source_uris[start : start + _FILTER_VALUES])
            where = Filter.by_property("source_uri").contains_any(chunk)
            self._delete_where(collection, tenant, where)

    # --- reads ---------------------------------------------------------------------------------

    def fetch_hashes(
        self, collection: str, ids: Sequence[str], *, tenant: str | None = None
    ) -> dict[str, str]:
        """``content_hash`` of the given ids that exist (in one tenant)."""
        if not ids:
            return {}
        weaviate_name = self._class_of(collection)
        found: dict[str, str] = {}
        for name in self._tenants_of(weaviate_name, tenant):
            query = self._tenant(weaviate_name, name).query
            for start in range(0, len(ids), _FILTER_VALUES):
                chunk = list(ids[start : start + _FILTER_VALUES])
                response = self._call(
                    "retrieve points",
                    collection,
                    partial(
                        query.fetch_objects,
                        filters=Filter.by_id().contains_any(chunk),
                        limit=len(chunk),
                        return_properties=["content_hash"],
                    ),
                )
                for item in response.objects:
                    found[str(item.uuid)] = str(item.properties.get("content_hash") or "")
        return found

    def scan(self, collection: str, *, tenant: str | None = None) -> Iterator[StoredPoint]:
        """Every point's id, content hash, source and kind, tenant by tenant (a cursor each)."""
        weaviate_name = self._class_of(collection)
        for name in self._tenants_of(weaviate_name, tenant):
            objects = self._tenant(weaviate_name, name).iterator(
                return_properties=list(SCAN_FIELDS), cache_size=1000
            )
            try:
                for item in objects:
                    yield stored_point(str(item.uuid), item.properties)
            except Exception as error:
                raise translate(error, "scan", collection, self._where) from error

    def count(self, collection: str, *, tenant: str | None = None) -> int:
        """Exact number of points (of one tenant)."""
        weaviate_name = self._class_of(collection)
        self._spec(weaviate_name)
        total = 0
        for name in self._tenants_of(weaviate_name, tenant):
            aggregate = self._tenant(weaviate_name, name).aggregate
            result = self._call("count", collection, partial(aggregate.over_all, total_count=True))
            total += int(result.total_count or 0)
        return total

    def close(self) -> None:
        """Close the connection."""
        try:
            self._client.close()
        except Exception:
            log.exception("closing the Weaviate client failed")
