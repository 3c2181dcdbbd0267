"""Cohere Embed v2 through the ``cohere`` SDK's ClientV2.

Texts go as ``texts``, images as data URIs in ``images``, and mixed inputs (embed-v4.0) as
``inputs`` whose content interleaves text and image_url parts, giving one vector per input.
``input_type`` is ``search_document`` for what is stored and ``search_query`` for queries (v3
models take ``image`` for images). Over-long texts are cut by Cohere (``truncate=END``).
The SDK's own retries are off (``max_retries=0``): the pipeline retries, once.
"""

from __future__ import annotations

from typing import Any

from mmingest.connectors.embedders.cohere.models import image_tokens, limits, resolve
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
from mmingest.schemas.config import CohereEmbedderConfig
from mmingest.schemas.embedding import Distance, EmbedderInfo, InputKind

_ENV = ("CO_API_KEY",)


def _import_cohere() -> tuple[Any, type[Exception]]:
    with needs_extra("the cohere embedder"):
        import cohere
        from cohere.core.api_error import ApiError
    return cohere, ApiError


class CohereEmbedder(RemoteEmbedder):
    """Cohere embed-v4.0 (or a v3 embed model) behind the Embedder protocol."""

    provider = "cohere"

    def __init__(self, config: CohereEmbedderConfig, *, limiter: RateLimiter | None = None):
        model, dimension = resolve(config)
        cohere, self._api_error = _import_cohere()
        import httpx

        self._key = api_key(config.api_key, self.provider, _ENV)
        self.config = config
        self._model = model
        self._httpx = httpx
        info = EmbedderInfo(
            provider=self.provider,
            model=config.model,
            dimension=dimension,
            distance=Distance.COSINE,
            embedding_type=config.embedding_type,
            mixed_inputs=model.v4,
            limits=limits(config, model),
        )
        super().__init__(
            info,
            limiter=limiter
            or RateLimiter(requests=config.requests_per_minute, tokens=config.tokens_per_minute),
        )
        options: dict[str, Any] = {"timeout": config.timeout_s, "max_retries": 0}
        if config.base_url:
            options["base_url"] = config.base_url
        self._client = cohere.ClientV2(
            api_key=self._key, log_warning_experimental_features=False, **options
        )

    def _image_tokens(self, image: EncodedImage) -> int:
        return image_tokens(image.pixels, self._model)

    def _request(self, items: list[Item], kind: InputKind) -> dict[str, Any]:
        query = kind is InputKind.QUERY
        request: dict[str, Any] = {
            "model": self.config.model,
            "input_type": "search_query" if query else "search_document",
            "embedding_types": [self.config.embedding_type],
            "truncate": "END",
        }
        if self._model.v4:
            request["output_dimension"] = self._info.dimension
        texts = [item[0] for item in items if len(item) == 1 and isinstance(item[0], str)]
        images = [item[0] for item in items if len(item) == 1 and isinstance(item[0], EncodedImage)]
        if len(texts) == len(items):
            request["texts"] = texts
        elif len(images) == len(items):
            request["images"] = [image.data_uri() for image in images]
            if not self._model.v4:
                request["input_type"] = "image"
        else:
            request["inputs"] = [{"content": [_content(part) for part in item]} for item in items]
        return request

    def _call(self, items: list[Item], kind: InputKind) -> Reply:
        try:
            response = self._client.embed(**self._request(items, kind))
        except self._api_error as error:
            raise self._translate(error) from None
        except self._httpx.TimeoutException as error:
            raise unavailable(self.provider, "timed out", error, [self._key]) from None
        except self._httpx.HTTPError as error:
            raise unavailable(self.provider, "connection failed", error, [self._key]) from None
        rows = getattr(response.embeddings, _FIELDS[self.config.embedding_type], None)
        billed = _billed(response.meta)
        tokens = billed.get("input_tokens", 0) + billed.get("image_tokens", 0)
        return Reply(rows, billed=billed, tokens=tokens or None)

    def _translate(self, error: Any) -> Exception:
        return translate_api_error(error, self._key)

    def close(self) -> None:
        """Close the SDK's HTTP connection pool."""
        self._client._client_wrapper.httpx_client.httpx_client.close()


def translate_api_error(error: Any, key: str) -> Exception:
    """The mmingest error for a cohere SDK ``ApiError`` (rate limit, unavailable, rejected
    credentials or input), with ``key`` scrubbed from the message."""
    status = error.status_code
    if status == 200:
        return for_status("cohere", None, "the reply was not valid JSON")
    return for_status(
        "cohere",
        status,
        message_of(error.body, "no error message"),
        headers=error.headers,
        auth_hint=auth_hint(_ENV),
        secrets=[key],
    )


_FIELDS = {
    "float": "float_",
    "int8": "int8",
    "uint8": "uint8",
    "binary": "binary",
    "ubinary": "ubinary",
}


def _content(part: object) -> dict[str, Any]:
    if isinstance(part, EncodedImage):
        return {"type": "image_url", "image_url": {"url": part.data_uri()}}
    return {"type": "text", "text": part}


def _billed(meta: Any) -> dict[str, int]:
    units = getattr(meta, "billed_units", None)
    if units is None:
        return {}
    values = units.model_dump() if hasattr(units, "model_dump") else dict(units)
    return {
        name: round(value)
        for name, value in values.items()
        if isinstance(value, int | float) and not isinstance(value, bool) and value
    }
