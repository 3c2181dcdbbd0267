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
    """Input limits of an embedder, as data the pipeline and the connectors act on.

    Images are fitted to the image limits (resized or re-encoded), never dropped for exceeding
    them; texts over a text limit are cut (``truncate_text``) or rejected as one bad input.
    ``None`` means the provider states no limit.
    """

    model_config = ConfigDict(frozen=True)

    max_batch: int = Field(32, ge=1, description="Inputs per embed call (the pipeline's batch).")
    max_concurrency: int = Field(
        1,
        ge=1,
        description="Embed calls the pipeline may have in flight at once. Providers that take "
        "one input per request reach their throughput this way.",
    )
    max_image_bytes: int | None = Field(None, description="Encoded bytes per image.")
    max_image_pixels: int | None = Field(None, description="Width x height per image.")
    min_image_side: int | None = Field(None, description="Smallest accepted side, in pixels.")
    max_image_side: int | None = Field(None, description="Largest accepted side, in pixels.")
    model_image_side: int | None = Field(
        None,
        description="The side the model resizes its input's short side to: larger images are "
        "downscaled to it before preprocessing (the processor's own first step).",
    )
    image_formats: tuple[str, ...] = Field(
        (),
        description="Encodings the provider accepts (Pillow format names), preferred first. "
        "Empty for local models, which take pixels.",
    )
    max_text_tokens: int | None = Field(None, description="Tokens per text (model's own count).")
    max_text_words: int | None = Field(None, description="Words per text.")
    max_text_chars: int | None = Field(None, description="Characters per text.")
    truncate_text: bool = Field(
        True,
        description="Over-long texts are cut to the limit (True) or rejected as invalid (False).",
    )
    max_request_tokens: int | None = Field(
        None, description="Tokens of all inputs of one provider request together."
    )
    max_request_images: int | None = Field(None, description="Images in one provider request.")
    max_request_image_bytes: int | None = Field(
        None, description="Encoded bytes of all images of one provider request together."
    )
    dimensions: tuple[int, ...] = Field(
        (), description="Output dimensions the model offers (empty: only its native one)."
    )
    embedding_types: tuple[str, ...] = Field(
        ("float",), description="Embedding types the model can return."
    )


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
    embedding_type: str = Field(
        "float",
        description="What the provider returned before conversion to float32 vectors "
        "(float, int8, uint8, binary, ubinary); part of the vector space's identity.",
    )
    mixed_inputs: bool = Field(
        False,
        description="Whether the embedder implements MixedEmbedder.embed_mixed (one vector "
        "for an interleaved sequence of texts and images).",
    )
    weights: str | None = Field(
        None,
        description="Content identity of the model's weights where the model runs here (a "
        "digest of a local checkpoint's files, or its hub commit); None for providers, whose "
        "model name is the identity. Part of the vector space's identity.",
    )
    limits: EmbedderLimits = Field(default_factory=EmbedderLimits)


class EmbedderUsage(BaseModel):
    """What an embedder has done since it was created: calls, inputs, billed units, cache.

    ``billed_units`` uses each provider's own unit names (``input_tokens``, ``image_tokens``,
    ``images``, ``text_characters``, ``transactions``...), taken from its responses where the
    provider reports them and counted from successful requests where it does not. A run's
    usage is the difference of two snapshots (:meth:`since`).
    """

    model_config = ConfigDict(frozen=True)

    requests: int = Field(0, description="Successful provider requests (or model passes).")
    inputs: int = Field(0, description="Inputs the provider or model embedded.")
    billed_units: dict[str, int] = Field(default_factory=dict)
    cache_hits: int = Field(0, description="Inputs answered from the embedding cache.")
    cache_misses: int = Field(0, description="Inputs the cache did not have.")

    def __add__(self, other: EmbedderUsage) -> EmbedderUsage:
        units = dict(self.billed_units)
        for unit, amount in other.billed_units.items():
            units[unit] = units.get(unit, 0) + amount
        return EmbedderUsage(
            requests=self.requests + other.requests,
            inputs=self.inputs + other.inputs,
            billed_units=units,
            cache_hits=self.cache_hits + other.cache_hits,
            cache_misses=self.cache_misses + other.cache_misses,
        )

    def since(self, earlier: EmbedderUsage) -> EmbedderUsage:
        """What happened between the ``earlier`` snapshot and this one."""
        units = {
            unit: amount - earlier.billed_units.get(unit, 0)
            for unit, amount in self.billed_units.items()
        }
        return EmbedderUsage(
            requests=self.requests - earlier.requests,
            inputs=self.inputs - earlier.inputs,
            billed_units={unit: amount for unit, amount in units.items() if amount},
            cache_hits=self.cache_hits - earlier.cache_hits,
            cache_misses=self.cache_misses - earlier.cache_misses,
        )
