"""Collection specs: the layout a store creates and checks before writing."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mmingest.schemas.embedding import Distance, EmbedderInfo
from mmingest.schemas.points import DENSE_VECTORS

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,62}$")


def validate_collection_name(name: str) -> str:
    """Return ``name`` if every store accepts it as a collection name, else raise ValueError.

    Letters first, then letters, digits, ``_`` and ``-``, at most 63 characters: the common
    subset of Qdrant, Milvus and Weaviate naming rules, and safe as a directory name.
    """
    if not _NAME.match(name):
        raise ValueError(
            f"invalid collection name {name!r}: start with a letter, then use letters, digits, "
            "'_' or '-' (at most 63 characters)"
        )
    return name


class EmbedderIdentity(BaseModel):
    """The part of :class:`EmbedderInfo` that defines a vector space."""

    model_config = ConfigDict(frozen=True)

    provider: str
    model: str
    dimension: int
    embedding_type: str = "float"
    weights: str | None = None
    """Digest of a local model's weights (see :attr:`EmbedderInfo.weights`)."""

    @classmethod
    def of(cls, info: EmbedderInfo) -> EmbedderIdentity:
        """The identity of an embedder."""
        return cls(
            provider=info.provider,
            model=info.model,
            dimension=info.dimension,
            embedding_type=info.embedding_type,
            weights=info.weights,
        )

    def same_space(self, other: EmbedderIdentity) -> bool:
        """Whether vectors of ``other`` can be compared with vectors of this embedder.

        Weights are compared when both sides recorded them: a collection created before
        weights were recorded keeps working with its model.
        """
        if self.weights is not None and other.weights is not None and self.weights != other.weights:
            return False
        mine = self.model_copy(update={"weights": None})
        return mine == other.model_copy(update={"weights": None})

    def __str__(self) -> str:
        kind = "" if self.embedding_type == "float" else f", {self.embedding_type}"
        weights = f", weights {self.weights}" if self.weights else ""
        return f"{self.provider}:{self.model} ({self.dimension}-d{kind}{weights})"


class VectorSpec(BaseModel):
    """One named dense vector of a collection."""

    model_config = ConfigDict(frozen=True)

    dimension: int = Field(ge=1)
    distance: Distance = Distance.COSINE


class CollectionSpec(BaseModel):
    """What a collection must look like: named vectors, keyword channel and embedder identity.

    Stores create a missing collection from the spec and refuse to write into an existing one
    whose recorded spec differs, so two vector spaces are never silently mixed.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    vectors: dict[str, VectorSpec]
    keywords: bool = True
    embedder: EmbedderIdentity

    @field_validator("name")
    @classmethod
    def _check_name(cls, name: str) -> str:
        return validate_collection_name(name)

    @classmethod
    def for_embedder(
        cls, name: str, info: EmbedderInfo, *, keywords: bool = True
    ) -> CollectionSpec:
        """The standard layout: ``image`` and ``caption`` vectors in the embedder's space."""
        vector = VectorSpec(dimension=info.dimension, distance=info.distance)
        return cls(
            name=name,
            vectors=dict.fromkeys(DENSE_VECTORS, vector),
            keywords=keywords,
            embedder=EmbedderIdentity.of(info),
        )

    def differences(self, other: CollectionSpec) -> list[str]:
        """Human-readable differences between this spec and ``other`` (empty when compatible)."""
        problems: list[str] = []
        if not self.embedder.same_space(other.embedder):
            problems.append(f"embedder {self.embedder} != {other.embedder}")
        if self.vectors != other.vectors:
            mine = {k: (v.dimension, str(v.distance)) for k, v in sorted(self.vectors.items())}
            theirs = {k: (v.dimension, str(v.distance)) for k, v in sorted(other.vectors.items())}
            problems.append(f"vectors {mine} != {theirs}")
        if self.keywords != other.keywords:
            problems.append(f"keyword channel {self.keywords} != {other.keywords}")
        return problems
