"""The JSON contract of ``/api``: requests and responses, documented in the OpenAPI schema."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mmingest.schemas.filters import Filter
from mmingest.schemas.query import FusionMethod, SearchMode

Vector = Literal["caption", "image"]
_VECTORS: tuple[Vector, ...] = ("caption", "image")


class SearchRequest(BaseModel):
    """A search: a text, an image (base64), a point to find more like, or a mix of them."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"text": "a red circle", "k": 12, "where": ["kind=image,pdf_page"]},
                {"like": "6f1c9a3e-0000-5000-8000-000000000000", "mode": "dense"},
            ]
        },
    )

    text: str | None = Field(None, max_length=2000, description="Text to search for.")
    image: str | None = Field(
        None,
        description="A query image: base64 of the encoded file (JPEG, PNG, WebP, GIF, BMP, TIFF), "
        "optionally as a data: URL. At most web.max_upload_bytes once decoded.",
    )
    like: str | None = Field(
        None,
        max_length=100,
        description="'More like this': the id of a point a previous search returned. Its picture "
        "(or, without one, its caption) is the query; the point itself is left out.",
    )
    k: int = Field(12, ge=1, description="Number of results (at most web.max_k).")
    mode: SearchMode = Field(SearchMode.HYBRID, description="Channels: hybrid, dense or keyword.")
    fusion: FusionMethod = Field(FusionMethod.RRF, description="How channels are fused.")
    vectors: list[Vector] = Field(
        default_factory=lambda: list(_VECTORS),
        min_length=1,
        max_length=2,
        description="Named vectors the dense channels search.",
    )
    weights: dict[Literal["caption", "image", "keywords"], float] = Field(
        default_factory=dict, description="Weight per channel (default 1 each)."
    )
    where: list[str] = Field(
        default_factory=list,
        max_length=64,
        description="Conditions that must all hold, as on the command line: kind=image, "
        "kind=image,pdf_page, page>=2, fields.brand=Acme, caption~running shoes.",
    )
    filters: Filter | None = Field(
        None, description="A filter expression (tagged union on 'op'); ANDed with 'where'."
    )
    tenant: str | None = Field(
        None,
        max_length=200,
        description="Tenant to search when the server is not bound to one; a server bound to a "
        "tenant refuses any other.",
    )


class HitOut(BaseModel):
    """One result, with where to get its pictures."""

    id: str = Field(description="Point id (stable across re-ingestion).")
    rank: int = Field(description="1 for the best hit.")
    score: float
    kind: str | None = Field(description="image, pdf_page or product.")
    caption: str | None = Field(description="Caption, page text or product title/description.")
    source_uri: str | None = Field(description="The object the point was made from.")
    page: int | None = Field(description="Page number (from 1) of a PDF page.")
    document: str | None = Field(description="The PDF a page belongs to.")
    display_uri: str | None = Field(description="Where the picture lives (PDF with #page=N).")
    thumbnail_url: str | None = Field(
        description="Bounded-size thumbnail served by this server; null when it has no picture "
        "it may serve (e.g. a product image on the web)."
    )
    picture_url: str | None = Field(description="The full picture, served by this server.")
    payload: dict[str, Any] = Field(description="Everything stored with the point.")


class SearchResponse(BaseModel):
    """Hits, best first, and how long the search took."""

    collection: str
    tenant: str | None
    took_ms: float = Field(description="Server-side time of the search.")
    hits: list[HitOut]


class Limits(BaseModel):
    """Request caps of this server."""

    max_k: int
    max_upload_bytes: int
    max_filter_depth: int
    max_filter_conditions: int


class InfoResponse(BaseModel):
    """What the collection holds and what a search may ask for (the page builds its form
    from this)."""

    collection: str
    tenant: str | None
    points: int
    kinds: list[str]
    product_fields: list[str] = Field(
        description="Product columns seen in a sample of the collection, for fields.<name> filters."
    )
    modes: list[str]
    fusions: list[str]
    vectors: list[str]
    channels: list[str]
    limits: Limits
    api_key_required: bool


class HealthResponse(BaseModel):
    """Liveness and readiness for deployments."""

    status: Literal["ok", "unavailable"]
    collection: str


class ErrorBody(BaseModel):
    """What failed and what to do."""

    code: str = Field(description="Machine-friendly reason, e.g. k_too_large.")
    message: str = Field(description="What failed, on which object, and what to do.")


class ErrorResponse(BaseModel):
    """Every 4xx/5xx answer of /api."""

    error: ErrorBody
