"""What an embedder is and what it accepts, as data the pipeline can act on."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class InputKind(StrEnum):
    """Whether texts are embedded for storage or as a search query (providers differ)."""

    DOCUMENT = "document"
    QUERY = "query"


class Distance(StrEnum):
    """Similarity metric of a vector space."""

    COSINE = "cosine"
    DOT = "dot"
    EUCLID = "euclid"


class EmbedderLimits(BaseModel):
    """Input limits the pipeline enforces before calling the embedder.

    Images are fitted to these limits (resized or re-encoded), never dropped for exceeding them.
    ``None`` means the provider states no limit.
    """

    model_config = ConfigDict(frozen=True)

    max_batch: int = Field(32, ge=1, description="Inputs per call.")
    max_image_bytes: int | None = Field(None, description="Encoded bytes per image.")
    max_image_pixels: int | None = Field(None, description="Width x height per image.")
    min_image_side: int | None = Field(None, description="Smallest accepted side, in pixels.")
    max_image_side: int | None = Field(None, description="Largest accepted side, in pixels.")
    model_image_side: int | None = Field(
        None,
        description="The side the model resizes its input's short side to: larger images are "
        "downscaled to it before preprocessing (the processor's own first step).",
    )
    max_text_tokens: int | None = Field(None, description="Tokens per text (model's own count).")
    max_text_words: int | None = Field(None, description="Words per text.")


class EmbedderInfo(BaseModel):
    """Identity and shape of an embedder's vector space.

    Two collections can only be compared or mixed when ``provider``, ``model`` and
    ``dimension`` agree; the store records them in the collection spec.
    """

    model_config = ConfigDict(frozen=True)

    provider: str
    model: str
    dimension: int = Field(ge=1)
    distance: Distance = Distance.COSINE
    normalized: bool = True
    limits: EmbedderLimits = Field(default_factory=EmbedderLimits)
