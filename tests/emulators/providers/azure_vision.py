"""Azure AI Vision multimodal embeddings 4.0: ``retrieval:vectorizeImage`` / ``vectorizeText``.

From the Azure "Multimodal embeddings (version 4.0)" concept page: 1024-d vectors; images under
20 MB and larger than 10 x 10 but smaller than 16,000 x 16,000 pixels; text of 1 to 70 words
(inclusive). From the Image Retrieval REST reference: ``api-version`` (required) and
``model-version`` query parameters, ``{"url": ...}`` JSON or a binary body for images,
``{"vector": [...], "modelVersion": ...}`` replies and ``{"error": {"code", "message",
"innererror"}}`` errors; the key travels in ``Ocp-Apim-Subscription-Key``.
"""

from __future__ import annotations

from typing import Any

from .base import IncomingRequest, ProviderEmulator, ProviderError, Reply
from .faults import retry_after_header
from .media import ImageInfo, MediaError, count_words, inspect_image
from .vectors import as_json_list, derive_vector, image_part, text_part

API_VERSIONS = ("2023-02-01-preview", "2023-04-01-preview", "2024-02-01")
MODEL_VERSIONS = ("2022-04-11", "2023-04-15")
DEFAULT_MODEL_VERSION = "2023-04-15"
DIM = 1024
MAX_IMAGE_BYTES = 20 * 1024 * 1024  # "must be less than 20 MB"
MIN_SIDE, MAX_SIDE = 10, 16_000  # "greater than 10 x 10 and less than 16,000 x 16,000"
MIN_WORDS, MAX_WORDS = 1, 70
IMAGE_FORMATS = ("JPEG", "MPO", "PNG", "GIF", "BMP", "WEBP", "ICO", "TIFF")


class AzureVisionEmulator(ProviderEmulator):
    """Emulates the Computer Vision 4.0 vectorize endpoints (no SDK wraps them; use REST)."""

    provider = "azure"

    def __init__(self, api_key: str = "test-key", **kwargs: Any) -> None:
        super().__init__(api_key, **kwargs)
        self.route("POST", r"/computervision/retrieval:vectorizeImage", self._vectorize_image)
        self.route("POST", r"/computervision/retrieval:vectorizeText", self._vectorize_text)

    def authenticate(self, request: IncomingRequest) -> None:
        """Subscription key header, with APIM's two distinct 401 messages."""
        key = request.header("ocp-apim-subscription-key")
        if not key:
            raise self.error(
                401,
                "Access denied due to missing subscription key. Make sure to include "
                "subscription key when making requests to an API.",
                code="401",
            )
        if key != self.api_key:
            raise self.error(
                401,
                "Access denied due to invalid subscription key or wrong API endpoint. Make sure "
                "to provide a valid key for an active subscription and use a correct regional "
                "API endpoint for your resource.",
                code="401",
            )

    def error_body(self, status: int, message: str, code: str | None = None) -> dict[str, Any]:
        """Azure's error envelope; validation errors carry an ``innererror`` code."""
        if status == 400:
            return {
                "error": {
                    "code": "InvalidRequest",
                    "message": message,
                    "innererror": {"code": code or "InvalidArgument", "message": message},
                }
            }
        return {"error": {"code": code or str(status), "message": message}}

    def rate_limit_error(self, retry_after: float | None) -> ProviderError:
        """APIM's 429, naming the wait in the message and the header."""
        wait = retry_after_header(retry_after) if retry_after is not None else "1"
        message = f"Rate limit is exceeded. Try again in {wait} seconds."
        return self.error(429, message, code="429", headers={"Retry-After": wait})

    def _bad(self, message: str, code: str) -> ProviderError:
        return self.error(400, message, code=code)

    def _model_version(self, request: IncomingRequest) -> str:
        api_version = request.query.get("api-version")
        if not api_version:
            raise self._bad("The api-version query parameter is required.", "MissingApiVersion")
        if api_version not in API_VERSIONS:
            raise self._bad(
                f"Unsupported api-version {api_version!r}; supported: {', '.join(API_VERSIONS)}.",
                "InvalidApiVersion",
            )
        model_version = request.query.get("model-version", DEFAULT_MODEL_VERSION)
        if model_version not in MODEL_VERSIONS:
            raise self._bad(
                f"Unsupported model-version {model_version!r}; supported: "
                f"{', '.join(MODEL_VERSIONS)}.",
                "InvalidModelVersion",
            )
        return model_version

    def _reply(self, model_version: str, part: bytes, billed_unit: str) -> Reply:
        # Vectors from different model versions are not comparable, so the version seeds them.
        vector = derive_vector(f"azure/{model_version}", [part], DIM)
        body = {"modelVersion": model_version, "vector": as_json_list(vector)}
        return Reply(body, inputs=1, billed={"transactions": 1, billed_unit: 1})

    def _vectorize_image(self, request: IncomingRequest) -> Reply:
        model_version = self._model_version(request)
        content_type = (request.header("content-type") or "").split(";")[0].strip().lower()
        if content_type == "application/json":
            url = request.json.get("url") if isinstance(request.json, dict) else None
            if not isinstance(url, str) or not url:
                raise self._bad(
                    'The request body must be {"url": "<image url>"}.', "InvalidArgument"
                )
            data = self.fetch_asset(url)
            if data is None:
                raise self._bad(f"Could not download the image from {url}.", "InvalidImageUrl")
        elif content_type in ("application/octet-stream", "") or content_type.startswith("image/"):
            data = request.raw
        else:
            raise self.error(415, f"Unsupported content type {content_type!r}.", code="415")
        info = self._check_image(data)
        return self._reply(model_version, image_part(info.data), "images")

    def _check_image(self, data: bytes) -> ImageInfo:
        if not data:
            raise self._bad("The image body is empty.", "InvalidImageSize")
        if len(data) >= MAX_IMAGE_BYTES:
            raise self._bad(
                f"Image size is {len(data)} bytes; the image must be less than 20 MB.",
                "InvalidImageSize",
            )
        try:
            info = inspect_image(data)
        except MediaError as exc:
            raise self._bad(
                f"Input data is not a valid image: {exc}", "InvalidImageFormat"
            ) from exc
        if info.format not in IMAGE_FORMATS:
            raise self._bad(f"Image format {info.format} is not supported.", "InvalidImageFormat")
        if not (MIN_SIDE < info.width < MAX_SIDE and MIN_SIDE < info.height < MAX_SIDE):
            raise self._bad(
                f"Image dimensions {info.width}x{info.height} are out of range: they must be "
                f"greater than {MIN_SIDE}x{MIN_SIDE} and less than "
                f"{MAX_SIDE:,}x{MAX_SIDE:,} pixels.",
                "InvalidImageDimension",
            )
        return info

    def _vectorize_text(self, request: IncomingRequest) -> Reply:
        model_version = self._model_version(request)
        text = request.json.get("text") if isinstance(request.json, dict) else None
        if not isinstance(text, str):
            raise self._bad('The request body must be {"text": "<text>"}.', "InvalidArgument")
        words = count_words(text)
        if not MIN_WORDS <= words <= MAX_WORDS:
            raise self._bad(
                f"The text has {words} words; it must be between {MIN_WORDS} and {MAX_WORDS} "
                "words (inclusive).",
                "InvalidTextLength",
            )
        return self._reply(model_version, text_part(text), "texts")
