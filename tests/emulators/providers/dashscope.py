"""Alibaba DashScope multimodal embedding: tongyi-embedding-vision-plus / -flash.

``POST /api/v1/services/embeddings/multimodal-embedding/multimodal-embedding`` with
``{"model", "input": {"contents": [...]}, "parameters": {"dimension", "output_type"}}``.
From Model Studio's multimodal embedding pages: plus 64/128/256/512/1024/1152 (default 1152),
flash 64/128/256/512/768 (default 768); text up to 1,024 tokens; images JPEG/PNG/BMP by URL or
base64 data URI, at most 3 MB each and at most 8 per request (``multi_images`` lists up to 8);
video by URL only, at most 10 MB; no element-count limit. Each content item gets its own vector
(``multi_images`` items get one vector for the whole list). Errors are
``{"code", "message", "request_id"}``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from .base import IncomingRequest, ProviderEmulator, ProviderError, Reply
from .faults import retry_after_header
from .media import ImageInfo, MediaError, count_tokens, inspect_image, parse_data_uri, patch_tokens
from .vectors import as_json_list, derive_vector, image_part, text_part, video_part

MB = 1024 * 1024
MAX_TEXT_TOKENS = 1_024
MAX_IMAGES_PER_REQUEST = 8
MAX_VIDEO_BYTES = 10 * MB
IMAGE_FORMATS = ("JPEG", "MPO", "PNG", "BMP")
OUTPUT_TYPES = ("dense",)
MODALITIES = ("text", "image", "video", "multi_images")
_CODES = {
    400: "InvalidParameter",
    401: "InvalidApiKey",
    404: "ModelNotFound",
    429: "Throttling.RateQuota",
    500: "InternalError",
    502: "InternalError",
    503: "ServiceUnavailable",
}


@dataclass(frozen=True)
class DashScopeModel:
    """What differs between the two tongyi vision embedding models."""

    name: str
    dim: int
    dimensions: tuple[int, ...]


MODELS = {
    m.name: m
    for m in (
        DashScopeModel("tongyi-embedding-vision-plus", 1152, (64, 128, 256, 512, 1024, 1152)),
        DashScopeModel("tongyi-embedding-vision-flash", 768, (64, 128, 256, 512, 768)),
    )
}


class DashScopeEmulator(ProviderEmulator):
    """Emulates DashScope's native multimodal embedding endpoint.

    Use ``dashscope.Client(api_key=..., base_url=emu.base_url)`` and
    ``client.multimodal.embeddings.create(...)``. ``max_image_bytes`` defaults to the 3 MB the
    model table states (some pages give 10 MB for plus / 5 MB for flash).
    """

    provider = "dashscope"
    api_prefix = "/api/v1"

    def __init__(self, api_key: str = "test-key", *, max_image_bytes: int = 3 * MB, **kwargs: Any):
        super().__init__(api_key, **kwargs)
        self.max_image_bytes = max_image_bytes
        self.route(
            "POST",
            r"/api/v1/services/embeddings/multimodal-embedding/multimodal-embedding",
            self._embed,
        )

    def authenticate(self, request: IncomingRequest) -> None:
        """Bearer key, or the X-DashScope-ApiKey header the docs also accept."""
        header = request.header("authorization") or ""
        scheme, _, token = header.partition(" ")
        key = token if scheme.lower() == "bearer" else request.header("x-dashscope-apikey")
        if not key:
            raise self.error(401, "No API-key provided.")
        if key != self.api_key:
            raise self.error(401, "Invalid API-key provided.")

    def error_body(self, status: int, message: str, code: str | None = None) -> dict[str, Any]:
        """DashScope's flat error body."""
        return {
            "code": code or _CODES.get(status, "InternalError"),
            "message": message,
            "request_id": str(uuid.uuid4()),
        }

    def rate_limit_error(self, retry_after: float | None) -> ProviderError:
        """429 Throttling.RateQuota."""
        headers = {} if retry_after is None else {"Retry-After": retry_after_header(retry_after)}
        message = "Requests rate limit exceeded, please try again later."
        return self.error(429, message, code="Throttling.RateQuota", headers=headers)

    def _bad(self, message: str) -> ProviderError:
        return self.error(400, message, code="InvalidParameter")

    def _embed(self, request: IncomingRequest) -> Reply:
        body = request.json
        if not isinstance(body, dict):
            raise self._bad("The request body must be a JSON object.")
        model = MODELS.get(body.get("model"))  # type: ignore[arg-type]
        if model is None:
            raise self.error(
                400, f"Model not exist: {body.get('model')!r}.", code="InvalidParameter"
            )
        parameters = body.get("parameters") or {}
        if not isinstance(parameters, dict):
            raise self._bad("parameters must be an object.")
        dim = parameters.get("dimension", model.dim)
        if dim not in model.dimensions or isinstance(dim, bool):
            allowed = ", ".join(str(d) for d in model.dimensions)
            raise self._bad(f"dimension must be one of [{allowed}] for {model.name}, got {dim!r}.")
        output_type = parameters.get("output_type", "dense")
        if output_type not in OUTPUT_TYPES:
            raise self._bad(f"output_type must be 'dense', got {output_type!r}.")
        contents = (
            body.get("input", {}).get("contents") if isinstance(body.get("input"), dict) else None
        )
        if not isinstance(contents, list) or not contents:
            raise self._bad("input.contents must be a non-empty list.")

        items = [self._item(entry, i) for i, entry in enumerate(contents)]
        image_count = sum(
            len(images) for kind, images, _ in items if kind in ("image", "multi_images")
        )
        if image_count > MAX_IMAGES_PER_REQUEST:
            raise self._bad(
                f"Too many images: {image_count}; at most {MAX_IMAGES_PER_REQUEST} images "
                "per request."
            )
        embeddings, text_tokens, image_tokens = [], 0, 0
        for index, (kind, images, payload) in enumerate(items):
            if kind == "text":
                text_tokens += count_tokens(payload)
                parts = [text_part(payload)]
            elif kind == "video":
                parts = [video_part(payload)]
            else:
                image_tokens += sum(patch_tokens(i.width, i.height) for i in images)
                parts = [image_part(i.data) for i in images]
            vector = derive_vector(f"dashscope/{model.name}", parts, dim, model.dim)
            embeddings.append({"index": index, "embedding": as_json_list(vector), "type": kind})
        total = text_tokens + image_tokens
        usage = {
            "input_tokens": total,
            "input_tokens_details": {"text_tokens": text_tokens, "image_tokens": image_tokens},
            "output_tokens": 0,
            "total_tokens": total,
        }
        reply = {
            "output": {"embeddings": embeddings},
            "usage": usage,
            "request_id": str(uuid.uuid4()),
        }
        billed = {"input_tokens": total, "text_tokens": text_tokens, "image_tokens": image_tokens}
        return Reply(reply, inputs=len(embeddings), billed=billed)

    def _item(self, entry: Any, index: int) -> tuple[str, list[ImageInfo], Any]:
        """Validate one content item; returns (kind, images, text-or-video-bytes)."""
        keys = [k for k in MODALITIES if isinstance(entry, dict) and entry.get(k) is not None]
        if len(keys) != 1:
            raise self._bad(
                f"input.contents[{index}] must contain exactly one of text, image, video "
                "or multi_images."
            )
        kind, value = keys[0], entry[keys[0]]
        if kind == "text":
            if not isinstance(value, str) or not value:
                raise self._bad(f"input.contents[{index}].text must be a non-empty string.")
            tokens = count_tokens(value)
            if tokens > MAX_TEXT_TOKENS:
                raise self._bad(
                    f"Range of input length should be [1, {MAX_TEXT_TOKENS}], got {tokens} tokens "
                    f"at input.contents[{index}]."
                )
            return kind, [], value
        if kind == "video":
            return kind, [], self._video(value, index)
        if kind == "image":
            return kind, [self._image(value, f"input.contents[{index}].image")], None
        if not isinstance(value, list) or not value:
            raise self._bad(f"input.contents[{index}].multi_images must be a non-empty list.")
        if len(value) > MAX_IMAGES_PER_REQUEST:
            raise self._bad(
                f"input.contents[{index}].multi_images has {len(value)} images; at most "
                f"{MAX_IMAGES_PER_REQUEST} are allowed."
            )
        field = f"input.contents[{index}].multi_images"
        return kind, [self._image(v, f"{field}[{n}]") for n, v in enumerate(value)], None

    def _image(self, ref: Any, field: str) -> ImageInfo:
        if not isinstance(ref, str) or not ref:
            raise self._bad(f"{field} must be an image URL or a base64 data URI.")
        if ref.startswith("data:"):
            try:
                _, data = parse_data_uri(ref)
            except MediaError as exc:
                raise self._bad(f"{field}: {exc}") from exc
        else:
            data = self.fetch_asset(ref)
            if data is None:
                raise self._bad(f"{field}: download the image failed, please check url: {ref}")
        if len(data) > self.max_image_bytes:
            limit = self.max_image_bytes / MB
            raise self._bad(
                f"{field} is {len(data)} bytes; each image must be at most {limit:g} MB."
            )
        try:
            info = inspect_image(data)
        except MediaError as exc:
            raise self._bad(f"{field}: {exc}") from exc
        if info.format not in IMAGE_FORMATS:
            raise self._bad(
                f"{field}: unsupported image format {info.format}; use JPEG, PNG or BMP."
            )
        return info

    def _video(self, ref: Any, index: int) -> bytes:
        field = f"input.contents[{index}].video"
        if not isinstance(ref, str) or ref.startswith("data:"):
            raise self._bad(f"{field} must be a public URL; base64 video is not supported.")
        data = self.fetch_asset(ref)
        if data is None:
            raise self._bad(f"{field}: download the video failed, please check url: {ref}")
        if len(data) > MAX_VIDEO_BYTES:
            raise self._bad(f"{field} is {len(data)} bytes; each video must be at most 10 MB.")
        return data
