"""What Cohere's embed models accept, as data (from Cohere's embed v2 reference)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from mmingest.schemas.config import CohereEmbedderConfig
from mmingest.schemas.embedding import EmbedderLimits
from mmingest.schemas.errors import ConfigError

MB = 1024 * 1024
MAX_INPUTS = 96
EMBEDDING_TYPES = ("float", "int8", "uint8", "binary", "ubinary")
# embed-v4.0 resizes every image into this pixel range and bills one token per 28x28 tile.
V4_MIN_PIXELS, V4_MAX_PIXELS, PIXELS_PER_TOKEN = 3_136, 2_458_624, 784


@dataclass(frozen=True)
class CohereModel:
    """One embed model: native width, offered dimensions, context and image rules."""

    dimension: int
    dimensions: tuple[int, ...]
    max_tokens: int
    v4: bool


MODELS = {
    "embed-v4.0": CohereModel(1536, (256, 512, 1024, 1536), 128_000, v4=True),
    "embed-english-v3.0": CohereModel(1024, (), 512, v4=False),
    "embed-multilingual-v3.0": CohereModel(1024, (), 512, v4=False),
    "embed-english-light-v3.0": CohereModel(384, (), 512, v4=False),
    "embed-multilingual-light-v3.0": CohereModel(384, (), 512, v4=False),
}


def resolve(config: CohereEmbedderConfig) -> tuple[CohereModel, int]:
    """The model and output dimension ``config`` asks for, or a ConfigError."""
    model = MODELS.get(config.model)
    if model is None:
        raise ConfigError(
            f"unknown Cohere embed model {config.model!r}; known: {', '.join(MODELS)}"
        )
    dimension = config.dimension or model.dimension
    offered = model.dimensions or (model.dimension,)
    if dimension not in offered:
        raise ConfigError(
            f"{config.model} offers dimensions {', '.join(map(str, offered))}, not {dimension}"
        )
    return model, dimension


def limits(config: CohereEmbedderConfig, model: CohereModel) -> EmbedderLimits:
    """Limits of ``model`` with the configured batch size and concurrency."""
    batch = min(config.batch_size or MAX_INPUTS, MAX_INPUTS)
    if model.v4:
        images: dict[str, int | None] = {
            "max_image_bytes": 20 * MB,
            "max_request_image_bytes": 20 * MB,
            # Larger images are downsampled by the service: sending them buys nothing.
            "max_image_pixels": V4_MAX_PIXELS,
        }
    else:
        images = {"max_image_bytes": 5 * MB, "max_request_images": 1}
    return EmbedderLimits(
        max_batch=batch,
        max_concurrency=config.concurrency,
        image_formats=("JPEG", "PNG"),
        max_text_tokens=model.max_tokens,
        dimensions=model.dimensions,
        embedding_types=EMBEDDING_TYPES,
        **images,
    )


def image_tokens(pixels: int, model: CohereModel) -> int:
    """Tokens embed-v4.0 bills for an image of ``pixels`` (v3 bills images, not tokens)."""
    if not model.v4:
        return 0
    return math.ceil(min(max(pixels, V4_MIN_PIXELS), V4_MAX_PIXELS) / PIXELS_PER_TOKEN)
