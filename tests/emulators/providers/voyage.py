"""Voyage AI multimodal embeddings (``POST /v1/multimodalembeddings``).

Limits come from Voyage's multimodal embeddings reference: at most 1,000 inputs; each image at
most 16 million pixels and 20 MB; every 560 image pixels count as one token; each input at most
32,000 tokens and all inputs together at most 320,000; base64 images must be data URLs of
image/png, image/jpeg, image/webp or image/gif; a request uses image_url or image_base64, not
both. Errors are ``{"detail": "..."}`` (the voyageai SDK reads ``detail``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .base import IncomingRequest, ProviderEmulator, ProviderError, Reply
from .faults import retry_after_header
from .media import ImageInfo, MediaError, count_tokens, inspect_image, parse_data_uri
from .vectors import as_base64, as_json_list, derive_vector, encode, image_part, text_part

MAX_INPUTS = 1_000
MAX_IMAGE_PIXELS = 16_000_000
MAX_IMAGE_BYTES = 20 * 1024 * 1024
PIXELS_PER_TOKEN = 560
MAX_TOKENS_PER_INPUT = 32_000
MAX_TOKENS_PER_REQUEST = 320_000
IMAGE_MIMES = ("image/png", "image/jpeg", "image/webp", "image/gif")
INPUT_TYPES = (None, "query", "document")


@dataclass(frozen=True)
class VoyageModel:
    """What differs between Voyage multimodal models."""

    name: str
    dim: int
    dimensions: tuple[int, ...]
    dtypes: tuple[str, ...]


MODELS = {
    m.name: m
    for m in (
        VoyageModel("voyage-multimodal-3", 1024, (1024,), ("float",)),
        VoyageModel(
            "voyage-multimodal-3.5",
            1024,
            (256, 512, 1024, 2048),
            ("float", "int8", "uint8", "binary", "ubinary"),
        ),
    )
}


class VoyageEmulator(ProviderEmulator):
    """Emulates Voyage's multimodal endpoint; use ``voyageai.Client(base_url=emu.base_url)``."""

    provider = "voyage"
    api_prefix = "/v1"

    def __init__(self, api_key: str = "test-key", **kwargs: Any) -> None:
        super().__init__(api_key, **kwargs)
        self.route("POST", r"/v1/multimodalembeddings", self._embed)

    def authenticate(self, request: IncomingRequest) -> None:
        """Bearer API key."""
        header = request.header("authorization") or ""
        scheme, _, token = header.partition(" ")
        if not token or scheme.lower() != "bearer":
            raise self.error(401, "No API key provided.")
        if token != self.api_key:
            raise self.error(401, "Provided API key is invalid.")

    def error_body(self, status: int, message: str, code: str | None = None) -> dict[str, Any]:
        """Voyage errors are ``{"detail": "..."}``."""
        return {"detail": message}

    def rate_limit_error(self, retry_after: float | None) -> ProviderError:
        """429 with Voyage's wording."""
        headers = {} if retry_after is None else {"Retry-After": retry_after_header(retry_after)}
        message = "You have exceeded the rate limit. Please retry after a short wait."
        return self.error(429, message, headers=headers)

    def _bad(self, message: str) -> ProviderError:
        return self.error(400, message)

    def _embed(self, request: IncomingRequest) -> Reply:
        body = request.json
        if not isinstance(body, dict):
            raise self._bad("Request body must be a JSON object.")
        model = MODELS.get(body.get("model"))  # type: ignore[arg-type]
        if model is None:
            raise self._bad(
                f"Model {body.get('model')!r} is not supported. Supported multimodal models: "
                f"{', '.join(MODELS)}."
            )
        input_type = body.get("input_type")
        if input_type not in INPUT_TYPES:
            raise self._bad(f"input_type must be null, 'query' or 'document', got {input_type!r}.")
        truncation = body.get("truncation", True)
        if not isinstance(truncation, bool):
            raise self._bad("truncation must be a boolean.")
        dtype = body.get("output_dtype") or "float"
        if dtype not in model.dtypes:
            raise self._bad(
                f"output_dtype {dtype!r} is not supported by {model.name}; "
                f"supported: {', '.join(model.dtypes)}."
            )
        dim = body.get("output_dimension") or model.dim
        if dim not in model.dimensions or isinstance(dim, bool):
            allowed = ", ".join(str(d) for d in model.dimensions)
            raise self._bad(
                f"output_dimension {dim!r} is not supported by {model.name}; supported: {allowed}."
            )
        # The SDK sends encoding_format; the REST reference names it output_encoding.
        encoding = body.get("output_encoding", body.get("encoding_format"))
        if encoding not in (None, "base64"):
            raise self._bad(f"output_encoding must be null or 'base64', got {encoding!r}.")

        inputs = body.get("inputs")
        if not isinstance(inputs, list) or not inputs:
            raise self._bad("inputs must be a non-empty list.")
        if len(inputs) > MAX_INPUTS:
            raise self._bad(
                f"The number of inputs must not exceed {MAX_INPUTS}, got {len(inputs)}."
            )
        parsed = [self._content(entry, i) for i, entry in enumerate(inputs)]
        sources = {kind for item in parsed for kind, _ in item if kind != "text"}
        if len(sources) > 1:
            raise self._bad(
                "A request must use either image_url or image_base64 for all images, not both."
            )

        data, text_tokens, image_pixels, total_tokens = [], 0, 0, 0
        for index, item in enumerate(parsed):
            parts: list[bytes] = []
            input_text, input_pixels = 0, 0
            for kind, value in item:
                if kind == "text":
                    input_text += count_tokens(value)
                    parts.append(text_part(value))
                else:
                    input_pixels += value.pixels
                    parts.append(image_part(value.data))
            tokens = input_text + input_pixels // PIXELS_PER_TOKEN
            if tokens > MAX_TOKENS_PER_INPUT:
                if not truncation or input_pixels // PIXELS_PER_TOKEN > MAX_TOKENS_PER_INPUT:
                    raise self._bad(
                        f"Input at index {index} has {tokens} tokens, exceeding the "
                        f"{MAX_TOKENS_PER_INPUT:,}-token limit per input."
                    )
                input_text -= tokens - MAX_TOKENS_PER_INPUT
                tokens = MAX_TOKENS_PER_INPUT
            text_tokens += input_text
            image_pixels += input_pixels
            total_tokens += tokens
            vector = encode(derive_vector(f"voyage/{model.name}", parts, dim, 2048), dtype)
            embedding = as_base64(vector) if encoding == "base64" else as_json_list(vector)
            data.append({"object": "embedding", "embedding": embedding, "index": index})
        if total_tokens > MAX_TOKENS_PER_REQUEST:
            raise self._bad(
                f"The inputs total {total_tokens} tokens, exceeding the "
                f"{MAX_TOKENS_PER_REQUEST:,}-token limit per request."
            )
        # voyageai 0.5 reads usage.video_pixels unconditionally, so it is always present.
        usage = {
            "text_tokens": text_tokens,
            "image_pixels": image_pixels,
            "video_pixels": 0,
            "total_tokens": total_tokens,
        }
        reply = {"object": "list", "data": data, "model": model.name, "usage": usage}
        billed = {
            "text_tokens": text_tokens,
            "image_pixels": image_pixels,
            "total_tokens": total_tokens,
        }
        return Reply(reply, inputs=len(data), billed=billed)

    def _content(self, entry: Any, index: int) -> list[tuple[str, Any]]:
        content = entry.get("content") if isinstance(entry, dict) else None
        if not isinstance(content, list) or not content:
            raise self._bad(
                f"Input at index {index} must be an object with a non-empty 'content' list."
            )
        pieces: list[tuple[str, Any]] = []
        for piece in content:
            kind = piece.get("type") if isinstance(piece, dict) else None
            if kind == "text" and isinstance(piece.get("text"), str):
                pieces.append(("text", piece["text"]))
            elif kind == "image_base64" and isinstance(piece.get("image_base64"), str):
                pieces.append((kind, self._base64_image(piece["image_base64"], index)))
            elif kind == "image_url" and isinstance(piece.get("image_url"), str):
                pieces.append((kind, self._url_image(piece["image_url"], index)))
            elif kind in ("video_url", "video_base64"):
                raise self._bad(f"Input at index {index}: video content is not emulated.")
            else:
                raise self._bad(
                    f"Input at index {index}: each content item needs type text, image_url or "
                    "image_base64 with the matching key."
                )
        return pieces

    def _base64_image(self, uri: str, index: int) -> ImageInfo:
        try:
            mime, data = parse_data_uri(uri)
        except MediaError as exc:
            raise self._bad(
                f"Input at index {index}: image_base64 must be a data URL ({exc})."
            ) from exc
        if mime not in IMAGE_MIMES:
            raise self._bad(
                f"Input at index {index}: unsupported image media type {mime!r}; "
                f"supported: {', '.join(IMAGE_MIMES)}."
            )
        return self._check_image(data, index)

    def _url_image(self, url: str, index: int) -> ImageInfo:
        data = self.fetch_asset(url)
        if data is None:
            raise self._bad(f"Input at index {index}: unable to download the image at {url}.")
        return self._check_image(data, index)

    def _check_image(self, data: bytes, index: int) -> ImageInfo:
        if len(data) > MAX_IMAGE_BYTES:
            raise self._bad(
                f"Input at index {index}: image is {len(data)} bytes, above the 20 MB limit."
            )
        try:
            info = inspect_image(data)
        except MediaError as exc:
            raise self._bad(f"Input at index {index}: {exc}") from exc
        if info.pixels > MAX_IMAGE_PIXELS:
            raise self._bad(
                f"Input at index {index}: image has {info.pixels} pixels, above the limit of "
                f"16 million pixels per image."
            )
        return info
