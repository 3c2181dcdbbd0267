"""Voyage AI multimodal embeddings through the ``voyageai`` SDK.

Every input is an interleaved ``content`` list of text and ``image_base64`` parts, so texts,
images and mixed inputs take the same request. ``input_type`` is ``document`` or ``query``;
over-long inputs are cut by Voyage (``truncation=True``). Requests stay within Voyage's
1,000 inputs and 320,000 tokens (images count one token per 560 pixels). The SDK's retries are
off (``max_retries=0`` means a single attempt): the pipeline retries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mmingest.connectors.embedders.remote import (
    EncodedImage,
    Item,
    RateLimiter,
    RemoteEmbedder,
    Reply,
    api_key,
    auth_hint,
)
from mmingest.connectors.embedders.remote.errors import for_status, message_of, unavailable
from mmingest.connectors.extras import needs_extra
from mmingest.schemas.config import VoyageEmbedderConfig
from mmingest.schemas.embedding import Distance, EmbedderInfo, EmbedderLimits, InputKind
from mmingest.schemas.errors import ConfigError, InputRejected

_ENV = ("VOYAGE_API_KEY",)
MB = 1024 * 1024
MAX_INPUTS = 1_000
PIXELS_PER_TOKEN = 560
QUANTIZED = ("int8", "uint8", "binary", "ubinary")


@dataclass(frozen=True)
class VoyageModel:
    """One multimodal model: native width and what else it can return."""

    dimension: int
    dimensions: tuple[int, ...]
    embedding_types: tuple[str, ...]


MODELS = {
    "voyage-multimodal-3": VoyageModel(1024, (), ("float",)),
    "voyage-multimodal-3.5": VoyageModel(1024, (256, 512, 1024, 2048), ("float", *QUANTIZED)),
}


def _import_voyageai() -> Any:
    with needs_extra("the voyage embedder"):
        import voyageai
        import voyageai.error
    return voyageai


class VoyageEmbedder(RemoteEmbedder):
    """Voyage multimodal-3 (or 3.5) behind the Embedder protocol; fuses mixed inputs."""

    provider = "voyage"

    def __init__(self, config: VoyageEmbedderConfig, *, limiter: RateLimiter | None = None):
        model = MODELS.get(config.model)
        if model is None:
            raise ConfigError(
                f"unknown Voyage multimodal model {config.model!r}; known: {', '.join(MODELS)}"
            )
        dimension = config.dimension or model.dimension
        if dimension not in (model.dimensions or (model.dimension,)):
            raise ConfigError(f"{config.model} does not offer {dimension} dimensions")
        if config.embedding_type not in model.embedding_types:
            raise ConfigError(
                f"{config.model} returns {', '.join(model.embedding_types)} embeddings, "
                f"not {config.embedding_type}"
            )
        voyageai = _import_voyageai()
        self._key = api_key(config.api_key, self.provider, _ENV)
        self.config = config
        self._errors = voyageai.error
        info = EmbedderInfo(
            provider=self.provider,
            model=config.model,
            dimension=dimension,
            distance=Distance.COSINE,
            embedding_type=config.embedding_type,
            mixed_inputs=True,
            limits=EmbedderLimits(
                max_batch=min(config.batch_size or MAX_INPUTS, MAX_INPUTS),
                max_concurrency=config.concurrency,
                max_image_bytes=20 * MB,
                max_image_pixels=16_000_000,
                image_formats=("JPEG", "PNG"),
                max_text_tokens=32_000,
                max_request_tokens=320_000,
                dimensions=model.dimensions,
                embedding_types=model.embedding_types,
            ),
        )
        super().__init__(
            info,
            limiter=limiter
            or RateLimiter(requests=config.requests_per_minute, tokens=config.tokens_per_minute),
        )
        self._client = voyageai.Client(
            api_key=self._key,
            max_retries=0,
            timeout=config.timeout_s,
            base_url=config.base_url,
        )

    def _image_tokens(self, image: EncodedImage) -> int:
        return math.ceil(image.pixels / PIXELS_PER_TOKEN)

    def _call(self, items: list[Item], kind: InputKind) -> Reply:
        options: dict[str, Any] = {}
        if self.config.dimension is not None:
            options["output_dimension"] = self._info.dimension
        if self.config.embedding_type != "float":
            options["output_dtype"] = self.config.embedding_type
        inputs = [{"content": [_content(part) for part in item]} for item in items]
        try:
            result = self._client.multimodal_embed(
                inputs=inputs,
                model=self.config.model,
                input_type="query" if kind is InputKind.QUERY else "document",
                truncation=True,
                **options,
            )
        except self._errors.VoyageError as error:
            raise self._translate(error) from None
        billed = {
            "text_tokens": int(result.text_tokens or 0),
            "image_pixels": int(result.image_pixels or 0),
            "total_tokens": int(result.total_tokens or 0),
        }
        billed = {unit: amount for unit, amount in billed.items() if amount}
        return Reply(result.embeddings, billed=billed, tokens=billed.get("total_tokens"))

    def _translate(self, error: Any) -> Exception:
        errors = self._errors
        secrets = [self._key]
        if isinstance(error, errors.Timeout):
            return unavailable(self.provider, "timed out", error, secrets)
        if isinstance(error, errors.APIConnectionError):
            return unavailable(self.provider, "connection failed", error, secrets)
        status = error.http_status
        if status is None:
            # The SDK refused the request before sending it.
            return InputRejected(f"voyageai refused the input: {error.user_message}")
        if status == 200:
            return for_status(self.provider, None, "the reply was not valid JSON")
        message = message_of(error.json_body, error.user_message or "no error message")
        return for_status(
            self.provider,
            status,
            message,
            headers=error.headers,
            auth_hint=auth_hint(_ENV),
            secrets=secrets,
        )

    def close(self) -> None:
        """Nothing to release: the SDK keeps one session per thread."""


def _content(part: object) -> dict[str, Any]:
    if isinstance(part, EncodedImage):
        return {"type": "image_base64", "image_base64": part.data_uri()}
    return {"type": "text", "text": part}
