"""Queries a store executes and the hits it returns."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mmingest.schemas.filters import Filter
from mmingest.schemas.points import KEYWORDS, VectorField


class SearchMode(StrEnum):
    """Which channels a search uses."""

    HYBRID = "hybrid"
    DENSE = "dense"
    KEYWORD = "keyword"


class FusionMethod(StrEnum):
    """How the ranked lists of several channels are combined."""

    RRF = "rrf"
    """Reciprocal rank fusion: ``sum(weight / (rrf_k + rank))`` over channels, rank from 1."""

    DBSF = "dbsf"
    """Distribution-based score fusion: scores normalised by mean +- 3 std, then summed."""

    WEIGHTED = "weighted"
    """Relative score fusion: each channel's scores min-max normalised to 0..1, then the
    weighted sum (Weaviate's ``relativeScoreFusion``)."""


class DenseProbe(BaseModel):
    """Search one named vector with one query vector."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    vector_name: str
    vector: VectorField
    weight: float = 1.0

    @property
    def channel(self) -> str:
        """A label for this probe in fusion weights and explanations."""
        return self.vector_name


class VectorizeProbe(BaseModel):
    """Search one named vector with a text or an image the store embeds itself.

    Only stores whose capabilities declare ``server_side_vectors`` (e.g. Weaviate with a
    multi2vec module) accept these: the store's vectorizer turns ``text`` (a ``near_text``
    search) or ``image`` (encoded image bytes, a ``near_image`` search) into the query vector,
    in the same space as the stored vectors. Other stores raise ``CapabilityMissing``.
    """

    model_config = ConfigDict(frozen=True)

    vector_name: str
    text: str | None = None
    image: bytes | None = None
    weight: float = 1.0

    @model_validator(mode="after")
    def _text_or_image(self) -> VectorizeProbe:
        if (self.text is None) == (self.image is None):
            raise ValueError("a vectorize probe needs exactly one of text or image")
        return self

    @property
    def channel(self) -> str:
        """A label for this probe in fusion weights and explanations."""
        return self.vector_name


class HybridQuery(BaseModel):
    """A store-level query: dense probes and/or keyword text, fused into one ranking.

    The query module builds these from a user's text and/or image; stores execute them with
    their native fusion where they have one and the same formulas client-side where not.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    dense: list[DenseProbe] = Field(default_factory=list)
    vectorize: list[VectorizeProbe] = Field(
        default_factory=list,
        description="Probes the store vectorizes itself (server-side vectorizer stores only).",
    )
    keyword_text: str | None = None
    keyword_weight: float = 1.0
    k: int = Field(10, ge=1, le=10_000)
    fusion: FusionMethod = FusionMethod.RRF
    rrf_k: int = Field(60, ge=1)
    candidates: int | None = Field(
        None, ge=1, description="Results fetched per channel before fusion (default: 4 x k)."
    )
    tenant: str | None = None
    filter: Filter | None = Field(
        None, description="Restricts every channel; the tenant restriction applies on top."
    )

    @model_validator(mode="after")
    def _has_a_channel(self) -> HybridQuery:
        if not self.dense and not self.vectorize and not self.keyword_text:
            raise ValueError(
                "a query needs at least one dense probe, vectorize probe or keyword text"
            )
        return self

    @property
    def candidate_limit(self) -> int:
        """How many results each channel contributes to fusion."""
        return self.candidates or max(4 * self.k, 20)

    @property
    def channels(self) -> list[str]:
        """Channel labels in execution order (dense, then vectorize probes, keywords last)."""
        labels = [probe.channel for probe in self.dense]
        labels += [probe.channel for probe in self.vectorize]
        if self.keyword_text:
            labels.append(KEYWORDS)
        return labels


class Hit(BaseModel):
    """One search result."""

    model_config = ConfigDict(frozen=True)

    id: str
    score: float
    payload: dict[str, Any] = Field(default_factory=dict)

    @property
    def kind(self) -> str | None:
        """``image``, ``pdf_page`` or ``product``."""
        value = self.payload.get("kind")
        return str(value) if value is not None else None

    @property
    def source_uri(self) -> str | None:
        """Where the original object lives."""
        value = self.payload.get("source_uri")
        return str(value) if value is not None else None

    @property
    def page(self) -> int | None:
        """Page number for PDF pages."""
        value = self.payload.get("page")
        return int(value) if value is not None else None

    @property
    def caption(self) -> str | None:
        """The text that was embedded as the caption."""
        value = self.payload.get("caption")
        return str(value) if value is not None else None
