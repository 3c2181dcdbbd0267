"""Azure AI Vision multimodal embeddings 4.0: ``retrieval:vectorizeImage`` / ``vectorizeText``.

No Azure SDK wraps these two calls, so they are made over REST with ``httpx`` as Azure documents
them: the key in ``Ocp-Apim-Subscription-Key``, ``api-version`` and ``model-version`` as query
parameters, images as a binary body, texts as ``{"text": ...}``. One input per request, so the
pipeline runs ``concurrency`` requests at once. Limits: texts of 1 to 70 words (longer ones are
cut to 70), images under 20 MB with sides over 10 and under 16,000 pixels (fitted to that).
Azure reports no usage: each successful call is billed as one transaction.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

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
from mmingest.schemas.config import AzureVisionEmbedderConfig
from mmingest.schemas.embedding import Distance, EmbedderInfo, EmbedderLimits, InputKind
from mmingest.schemas.errors import ConfigError, MmingestError

_ENV = ("VISION_KEY",)
DIMENSION = 1024
MODEL_VERSIONS = ("2022-04-11", "2023-04-15")


class AzureVisionEmbedder(RemoteEmbedder):
    """Azure AI Vision 4.0 multimodal embeddings behind the Embedder protocol."""

    provider = "azure-vision"

    def __init__(
        self, config: AzureVisionEmbedderConfig, *, limiter: RateLimiter | None = None
    ) -> None:
        if not config.endpoint:
            raise ConfigError(
                "no Azure AI Vision endpoint: set MMINGEST_EMBEDDER__ENDPOINT or VISION_ENDPOINT "
                "(https://<resource>.cognitiveservices.azure.com)"
            )
        if config.model_version not in MODEL_VERSIONS:
            raise ConfigError(
                f"unknown Azure AI Vision model-version {config.model_version!r}; known: "
                f"{', '.join(MODEL_VERSIONS)}"
            )
        self._key = api_key(config.api_key, self.provider, _ENV)
        self.config = config
        self._root = f"{config.endpoint.rstrip('/')}/computervision/retrieval:"
        self._params = {"api-version": config.api_version, "model-version": config.model_version}
        info = EmbedderInfo(
            provider=self.provider,
            model=config.model_version,
            dimension=DIMENSION,
            distance=Distance.COSINE,
            limits=EmbedderLimits(
                max_batch=1,
                max_concurrency=config.concurrency,
                max_image_bytes=20 * 1024 * 1024 - 1,  # "less than 20 MB"
                min_image_side=11,  # "greater than 10 x 10"
                max_image_side=15_999,  # "less than 16,000 x 16,000"
                image_formats=("JPEG", "PNG"),
                max_text_words=70,
            ),
        )
        super().__init__(info, limiter=limiter or RateLimiter(requests=config.requests_per_minute))
        self._http = httpx.Client(
            timeout=config.timeout_s,
            limits=httpx.Limits(max_connections=config.concurrency * 2),
            headers={"Ocp-Apim-Subscription-Key": self._key},
        )

    def _call(self, items: list[Item], kind: InputKind) -> Reply:
        (item,) = items  # one input per request (max_batch = 1)
        (part,) = item
        if isinstance(part, EncodedImage):
            request: dict[str, Any] = {
                "content": part.data,
                "headers": {"Content-Type": "application/octet-stream"},
            }
            operation, unit = "vectorizeImage", "images"
        else:
            request, operation, unit = {"json": {"text": part}}, "vectorizeText", "texts"
        try:
            response = self._http.post(self._root + operation, params=self._params, **request)
        except httpx.TimeoutException as error:
            raise unavailable(self.provider, "timed out", error, [self._key]) from None
        except httpx.HTTPError as error:
            raise unavailable(self.provider, "connection failed", error, [self._key]) from None
        if response.status_code != 200:
            raise self._translate(response)
        try:
            vector = response.json()["vector"]
        except (ValueError, KeyError, TypeError) as error:
            raise for_status(self.provider, None, f"unreadable reply ({error!r})") from None
        return Reply([vector], billed={"transactions": 1, unit: 1})

    def _translate(self, response: httpx.Response) -> MmingestError:
        try:
            body: Any = response.json()
        except json.JSONDecodeError:
            body = response.text
        return for_status(
            self.provider,
            response.status_code,
            message_of(body, response.reason_phrase or "no error message"),
            headers=response.headers,
            auth_hint=auth_hint(_ENV),
            secrets=[self._key],
        )

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()
