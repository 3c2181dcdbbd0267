"""DashScope ``tongyi-embedding-vision-plus`` / ``-flash`` through the ``dashscope`` SDK.

Each content item (``{"text": ...}`` or ``{"image": <data URI>}``) gets its own vector; these
models embed text and images separately, so there is no mixed input. Limits from Model Studio's
model table: texts up to 1,024 tokens (cut to 1,024 characters here, which stays within the
token limit whatever the script: DashScope has no truncation switch), JPEG/PNG/BMP images up to
3 MB each and 8 per request. The SDK's retries are off (``max_retries=0``).
"""

from __future__ import annotations

import math
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
from mmingest.connectors.embedders.remote.errors import for_status, unavailable
from mmingest.connectors.extras import needs_extra
from mmingest.schemas.config import DashScopeEmbedderConfig
from mmingest.schemas.embedding import Distance, EmbedderInfo, EmbedderLimits, InputKind
from mmingest.schemas.errors import ConfigError

_ENV = ("DASHSCOPE_API_KEY",)
MB = 1024 * 1024
MAX_IMAGES = 8
DEFAULT_BATCH = 8
PATCH = 28
MODELS = {
    "tongyi-embedding-vision-plus": (1152, (64, 128, 256, 512, 1024, 1152)),
    "tongyi-embedding-vision-flash": (768, (64, 128, 256, 512, 768)),
}


def _import_dashscope() -> Any:
    with needs_extra("the dashscope embedder"):
        import dashscope
        import dashscope.v2.errors
    return dashscope


class DashScopeEmbedder(RemoteEmbedder):
    """DashScope tongyi-embedding-vision models behind the Embedder protocol."""

    provider = "dashscope"

    def __init__(self, config: DashScopeEmbedderConfig, *, limiter: RateLimiter | None = None):
        if config.model not in MODELS:
            raise ConfigError(
                f"unknown DashScope multimodal embedding model {config.model!r}; known: "
                f"{', '.join(MODELS)}"
            )
        native, dimensions = MODELS[config.model]
        dimension = config.dimension or native
        if dimension not in dimensions:
            raise ConfigError(
                f"{config.model} offers dimensions {', '.join(map(str, dimensions))}, "
                f"not {dimension}"
            )
        dashscope = _import_dashscope()
        self._key = api_key(config.api_key, self.provider, _ENV)
        self.config = config
        self._errors = dashscope.v2.errors
        info = EmbedderInfo(
            provider=self.provider,
            model=config.model,
            dimension=dimension,
            distance=Distance.COSINE,
            limits=EmbedderLimits(
                max_batch=config.batch_size or DEFAULT_BATCH,
                max_concurrency=config.concurrency,
                max_image_bytes=3 * MB,
                image_formats=("JPEG", "PNG"),
                max_text_tokens=1_024,
                max_text_chars=1_024,
                max_request_images=MAX_IMAGES,
                dimensions=dimensions,
            ),
        )
        super().__init__(
            info,
            limiter=limiter
            or RateLimiter(requests=config.requests_per_minute, tokens=config.tokens_per_minute),
        )
        options: dict[str, Any] = {"timeout": config.timeout_s, "max_retries": 0}
        if config.base_url:
            options["base_url"] = config.base_url
        self._client = dashscope.Client(api_key=self._key, **options)

    def _image_tokens(self, image: EncodedImage) -> int:
        return math.ceil(image.width / PATCH) * math.ceil(image.height / PATCH)

    def _call(self, items: list[Item], kind: InputKind) -> Reply:
        contents = []
        for (part,) in items:
            if isinstance(part, EncodedImage):
                contents.append({"image": part.data_uri()})
            else:
                contents.append({"text": part})
        try:
            response = self._client.multimodal.embeddings.create(
                model=self.config.model, input=contents, dimension=self._info.dimension
            )
        except self._errors.APITimeoutError as error:
            raise unavailable(self.provider, "timed out", error, [self._key]) from None
        except self._errors.APIConnectionError as error:
            raise unavailable(self.provider, "connection failed", error, [self._key]) from None
        except self._errors.DashScopeError as error:
            raise for_status(
                self.provider,
                error.status_code,
                error.message or str(error),
                headers=error.headers,
                auth_hint=auth_hint(_ENV),
                secrets=[self._key],
            ) from None
        except ValueError as error:  # the SDK's JSON parser on an unreadable body
            raise unavailable(self.provider, "sent an unreadable reply", error) from None
        embeddings = sorted(response.embeddings, key=lambda e: e.index)
        return Reply([e.embedding for e in embeddings], **_usage(response.usage))

    def close(self) -> None:
        """Close the SDK's HTTP connection pool."""
        self._client.close()


def _usage(usage: Any) -> dict[str, Any]:
    if usage is None:
        return {"billed": {}}
    values = usage.model_dump()
    details = values.get("input_tokens_details") or {}
    billed = {
        "input_tokens": int(values.get("input_tokens") or 0),
        "text_tokens": int(details.get("text_tokens") or 0),
        "image_tokens": int(details.get("image_tokens") or 0),
    }
    billed = {unit: amount for unit, amount in billed.items() if amount}
    return {"billed": billed, "tokens": billed.get("input_tokens")}
