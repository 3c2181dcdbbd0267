"""Points: what lands in a vector store, with ids that make re-runs idempotent."""

from __future__ import annotations

import hashlib
import uuid
from typing import Annotated, Any, NamedTuple

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, PlainValidator

from mmingest.schemas.trusted import trusted

IMAGE = "image"
"""Name of the dense vector computed from pixels."""

CAPTION = "caption"
"""Name of the dense vector computed from text (caption, page text, product title+description)."""

KEYWORDS = "keywords"
"""Name of the keyword channel (sparse BM25 vector or store-native full-text index)."""

DENSE_VECTORS: tuple[str, ...] = (IMAGE, CAPTION)

POINT_NAMESPACE = uuid.UUID("5c8f1b9e-4a57-5d5e-9a0c-6d9a3b1e2f70")
"""Namespace of point ids. Changing it would orphan every stored point: never do."""


def _uuid5(namespace: bytes, name: str) -> str:
    """``str(uuid.uuid5(UUID(bytes=namespace), name))`` at a quarter of the cost (it runs once
    per record on the ingest hot path); equality with the standard library is tested."""
    digest = hashlib.sha1(namespace + name.encode("utf-8"), usedforsecurity=False).hexdigest()
    # RFC 4122: version 5 in the 13th hex digit, the variant's two top bits in the 17th.
    return (
        f"{digest[:8]}-{digest[8:12]}-5{digest[13:16]}-"
        f"{_VARIANT[digest[16]]}{digest[17:20]}-{digest[20:32]}"
    )


_VARIANT = {digit: format(int(digit, 16) & 0x3 | 0x8, "x") for digit in "0123456789abcdef"}
_NAMESPACE_BYTES = POINT_NAMESPACE.bytes


def point_id(source_uri: str, part: str = "") -> str:
    """Deterministic id of the point for ``part`` of the object at ``source_uri``.

    ``part`` is the page number for a PDF page, the record key for a product and empty for a
    plain image, so re-ingesting the same object always addresses the same points.
    """
    return _uuid5(_NAMESPACE_BYTES, f"{source_uri}#{part}")


def scoped_id(point_id: str, tenant: str | None) -> str:
    """The id a point has in its store: ``point_id`` itself without a tenant, and an id of
    that tenant's own otherwise, so two tenants ingesting the same object into one collection
    keep a point each (stores key points by id alone). Deterministic, like ``point_id``."""
    if tenant is None:
        return point_id
    return _uuid5(uuid.UUID(point_id).bytes, tenant)


Vector = npt.NDArray[np.float32]


_FLOAT32 = np.dtype(np.float32)


def _is_vector(value: Any) -> bool:
    # ``dtype is`` (native float32 is one shared dtype object) at half the cost of ``==``,
    # twice per point; a byte-swapped float32 fails it and is converted to native order.
    return (
        type(value) is np.ndarray and value.dtype is _FLOAT32 and value.ndim == 1 and value.size > 0
    )


def _as_vector(value: Any) -> Vector:
    if _is_vector(value):
        # Already what a point holds: the common case on the ingest hot path.
        return value  # type: ignore[no-any-return]
    array = np.asarray(value, dtype=np.float32)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"a vector must be a non-empty 1-d sequence, got shape {array.shape}")
    return array


VectorField = Annotated[Vector, PlainValidator(_as_vector)]


class StoredPoint(NamedTuple):
    """What a store scan reports of one point: enough to reconcile it with its source."""

    id: str
    content_hash: str
    source_uri: str
    kind: str


class Point(BaseModel):
    """One record for a vector store.

    ``vectors`` holds the named dense vectors that exist for this point (an image without any
    caption has no ``caption`` vector). ``keyword_text`` feeds the store's keyword channel.
    ``payload`` is stored verbatim; see :func:`mmingest.pipelines.points.build_payload` for its
    fields.
    ``image_data`` (encoded image bytes) is only set for stores that compute vectors
    server-side; it never goes into the payload.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    id: str
    vectors: dict[str, VectorField]
    keyword_text: str | None = None
    payload: dict[str, Any]
    image_data: bytes | None = None

    @classmethod
    def of(
        cls,
        id: str,
        vectors: dict[str, Vector],
        keyword_text: str | None,
        payload: dict[str, Any],
    ) -> Point:
        """The point, validated once per field kind rather than by pydantic per point.

        On the ingest hot path every input already has the type validation would produce
        (``str`` ids, 1-d non-empty float32 vectors, a payload dict), so validating would
        return them unchanged at ~15 us a point: such points are built directly
        (:func:`~mmingest.schemas.trusted.trusted`, under 1 us). Anything
        else goes through full validation, with its errors.
        """
        typed = (
            type(id) is str
            and type(payload) is dict
            and (keyword_text is None or type(keyword_text) is str)
        )
        for vector in vectors.values() if typed else ():
            if not _is_vector(vector):
                typed = False
                break
        if typed:
            return trusted(
                cls,
                {
                    "id": id,
                    "vectors": vectors,
                    "keyword_text": keyword_text,
                    "payload": payload,
                    "image_data": None,
                },
            )
        return cls(id=id, vectors=vectors, keyword_text=keyword_text, payload=payload)

    @property
    def content_hash(self) -> str:
        """The content fingerprint recorded in the payload."""
        return str(self.payload["content_hash"])
