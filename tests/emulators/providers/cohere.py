"""Cohere Embed API v2 (``POST /v2/embed``): embed-v4.0 and the v3 embed models.

Limits come from the Cohere v2 embed reference as shipped in the cohere SDK docstrings
(96 texts/inputs per call; v4: any number of images, 20 MB combined; v3: 1 image of 5 MB),
Cohere's error reference (``{"message": ...}`` bodies, "total number of texts must be at most 96 -
received N"), and the Bedrock/OCI embed-v4 pages (output_dimension 256/512/1024/1536, ~128k token
context, images resized to 3,136..2,458,624 pixels).
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from typing import Any

from .base import IncomingRequest, ProviderEmulator, ProviderError, Reply
from .faults import retry_after_header
from .media import (
    ImageInfo,
    MediaError,
    count_tokens,
    inspect_image,
    parse_data_uri,
    truncate_tokens,
)
from .vectors import as_base64, as_json_list, derive_vector, encode, image_part, text_part

MAX_INPUTS = 96
RERANK_MODELS = ("rerank-v3.5", "rerank-english-v3.0", "rerank-multilingual-v3.0")
MAX_RERANK_DOCUMENTS = 1000
INPUT_TYPES = ("search_document", "search_query", "classification", "clustering", "image")
EMBEDDING_TYPES = ("float", "int8", "uint8", "binary", "ubinary", "base64")
IMAGE_MIMES = ("image/jpeg", "image/png", "image/webp", "image/gif")
TRUNCATE_MODES = ("NONE", "START", "END")
MB = 1024 * 1024
# embed-v4 resizes images into this pixel range; tokens are billed on the resized image.
V4_MIN_PIXELS, V4_MAX_PIXELS, PIXELS_PER_IMAGE_TOKEN = 3_136, 2_458_624, 784


@dataclass(frozen=True)
class CohereModel:
    """What differs between Cohere embed models."""

    name: str
    dim: int
    dimensions: tuple[int, ...]  # allowed output_dimension values; empty: not supported
    max_tokens: int
    max_images: int | None  # images per call; None: unlimited
    image_limit: int  # bytes: per image for v3, all images combined for v4
    is_v4: bool


_V3_IMAGE = {"max_tokens": 512, "max_images": 1, "image_limit": 5 * MB, "is_v4": False}
MODELS = {
    m.name: m
    for m in (
        CohereModel("embed-v4.0", 1536, (256, 512, 1024, 1536), 128_000, None, 20 * MB, True),
        CohereModel("embed-english-v3.0", 1024, (), **_V3_IMAGE),
        CohereModel("embed-multilingual-v3.0", 1024, (), **_V3_IMAGE),
        CohereModel("embed-english-light-v3.0", 384, (), **_V3_IMAGE),
        CohereModel("embed-multilingual-light-v3.0", 384, (), **_V3_IMAGE),
    )
}


def image_tokens(info: ImageInfo) -> int:
    """embed-v4 image tokens: the pixel count clamped to the resize range, per 28x28 tile."""
    pixels = min(max(info.pixels, V4_MIN_PIXELS), V4_MAX_PIXELS)
    return math.ceil(pixels / PIXELS_PER_IMAGE_TOKEN)


class CohereEmulator(ProviderEmulator):
    """Emulates ``POST /v2/embed``; point ``cohere.ClientV2(base_url=emu.base_url)`` at it."""

    provider = "cohere"

    def __init__(self, api_key: str = "test-key", **kwargs: Any) -> None:
        super().__init__(api_key, **kwargs)
        self.route("POST", r"/v2/embed", self._embed)
        self.route("POST", r"/v2/rerank", self._rerank)

    def authenticate(self, request: IncomingRequest) -> None:
        """Bearer API key, as the SDK sends it."""
        header = request.header("authorization") or ""
        scheme, _, token = header.partition(" ")
        if not token or scheme.lower() != "bearer":
            raise self.error(401, "no api key supplied")
        if token != self.api_key:
            raise self.error(401, "invalid api token")

    def error_body(self, status: int, message: str, code: str | None = None) -> dict[str, Any]:
        """Cohere errors are ``{"message": "..."}`` for every status."""
        return {"message": message}

    def rate_limit_error(self, retry_after: float | None) -> ProviderError:
        """429 worded like Cohere's, with Retry-After when a wait is known."""
        headers = {} if retry_after is None else {"Retry-After": retry_after_header(retry_after)}
        return self.error(429, "too many requests: rate limit exceeded", headers=headers)

    def _bad(self, message: str) -> ProviderError:
        return self.error(400, f"invalid request: {message}")

    def _rerank(self, request: IncomingRequest) -> Reply:
        """``POST /v2/rerank``: ``model``, ``query``, ``documents`` (strings, at most 1,000),
        optional ``top_n``. Relevance here is the share of the query's words a document
        contains (deterministic, so tests can predict the order), ties by index."""
        body = request.json
        if not isinstance(body, dict):
            raise self._bad("request body must be a JSON object")
        if body.get("model") not in RERANK_MODELS:
            raise self.error(404, f"model '{body.get('model')}' not found")
        query, documents = body.get("query"), body.get("documents")
        if not isinstance(query, str) or not query.strip():
            raise self._bad("query must be a non-empty string")
        if not isinstance(documents, list) or not documents:
            raise self._bad("documents must be a non-empty list")
        if len(documents) > MAX_RERANK_DOCUMENTS:
            raise self._bad(f"too many documents: at most {MAX_RERANK_DOCUMENTS}")
        if not all(isinstance(document, str) for document in documents):
            raise self._bad("documents must be strings")
        top_n = body.get("top_n", len(documents))
        if not isinstance(top_n, int) or top_n < 1:
            raise self._bad("top_n must be a positive integer")
        words = set(query.lower().split())
        scored = [
            (len(words & set(document.lower().split())) / len(words), index)
            for index, document in enumerate(documents)
        ]
        scored.sort(key=lambda item: (-item[0], item[1]))
        results = [{"index": index, "relevance_score": score} for score, index in scored[:top_n]]
        billed = {"search_units": 1}
        body = {"id": str(uuid.uuid4()), "results": results, "meta": {"billed_units": billed}}
        return Reply(body, inputs=len(documents), billed=billed)

    def _embed(self, request: IncomingRequest) -> Reply:
        body = request.json
        if not isinstance(body, dict):
            raise self._bad("request body must be a JSON object")
        model = self._model(body.get("model"))
        input_type = body.get("input_type")
        if input_type is None:
            raise self._bad("valid input_type must be provided with the provided model")
        if input_type not in INPUT_TYPES:
            raise self._bad(
                f"input_type must be one of {', '.join(INPUT_TYPES)} - received {input_type!r}"
            )
        types = self._embedding_types(body.get("embedding_types"))
        dim = self._dimension(model, body.get("output_dimension"))
        truncate = body.get("truncate", "END")
        if truncate not in TRUNCATE_MODES:
            raise self._bad(f"truncate must be one of NONE, START, END - received {truncate!r}")
        cap = self._token_cap(model, body.get("max_tokens"))

        given = [key for key in ("texts", "images", "inputs") if body.get(key) is not None]
        if len(given) != 1:
            raise self._bad("exactly one of texts, images or inputs must be provided")
        items = self._items(model, given[0], body[given[0]])

        vectors, text_tokens, images = [], 0, []
        for index, segments in enumerate(items):
            parts: list[bytes] = []
            for segment in segments:
                if isinstance(segment, ImageInfo):
                    images.append(segment)
                    parts.append(image_part(segment.data))
                    continue
                tokens = count_tokens(segment)
                if tokens > cap:
                    if truncate == "NONE":
                        raise self.error(
                            400,
                            f"too many tokens: input at index {index} has {tokens} tokens, the "
                            f"limit is {cap}. Try shorter inputs or set truncate to START or END.",
                        )
                    segment = truncate_tokens(segment, cap, from_start=truncate == "START")
                    tokens = cap
                text_tokens += tokens
                parts.append(text_part(segment))
            vectors.append(derive_vector(f"cohere/{model.name}", parts, dim, model.dim))

        embeddings: dict[str, Any] = {}
        for kind in types:
            if kind == "base64":
                embeddings[kind] = [as_base64(v) for v in vectors]
            else:
                embeddings[kind] = [as_json_list(encode(v, kind)) for v in vectors]
        billed = {"input_tokens": text_tokens}
        if images and model.is_v4:
            billed["image_tokens"] = sum(image_tokens(info) for info in images)
        elif images:
            billed["images"] = len(images)
        reply: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "embeddings": embeddings,
            "response_type": "embeddings_by_type",
            "meta": {"api_version": {"version": "2"}, "billed_units": billed},
        }
        if given[0] == "texts":
            reply["texts"] = list(body["texts"])
        if images:
            reply["images"] = [
                {
                    "width": i.width,
                    "height": i.height,
                    "format": i.format.lower(),
                    "bit_depth": i.bit_depth,
                }
                for i in images
            ]
        return Reply(reply, inputs=len(vectors), billed=billed)

    def _model(self, name: Any) -> CohereModel:
        if not isinstance(name, str) or not name:
            raise self._bad("model must be provided")
        if name not in MODELS:
            raise self.error(
                404,
                f"model '{name}' not found, make sure the correct model ID was used and that "
                "you have access to the model.",
            )
        return MODELS[name]

    def _embedding_types(self, value: Any) -> list[str]:
        if value is None:
            return ["float"]
        if not isinstance(value, list) or not value:
            raise self._bad("embedding_types must be a non-empty list")
        for kind in value:
            if kind not in EMBEDDING_TYPES:
                raise self._bad(
                    f"embedding_types must contain only {', '.join(EMBEDDING_TYPES)} "
                    f"- received {kind!r}"
                )
        return list(dict.fromkeys(value))

    def _dimension(self, model: CohereModel, value: Any) -> int:
        if value is None:
            return model.dim
        if not model.dimensions:
            raise self._bad(f"output_dimension is not supported for model {model.name}")
        if value not in model.dimensions or isinstance(value, bool):
            allowed = ", ".join(str(d) for d in model.dimensions)
            raise self._bad(f"output_dimension must be one of {allowed} - received {value!r}")
        return int(value)

    def _token_cap(self, model: CohereModel, value: Any) -> int:
        if value is None:
            return model.max_tokens
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise self._bad(f"max_tokens must be a positive integer - received {value!r}")
        return min(value, model.max_tokens)

    def _items(self, model: CohereModel, key: str, value: Any) -> list[list[str | ImageInfo]]:
        """Normalize texts/images/inputs into per-input segment lists, enforcing limits."""
        if not isinstance(value, list) or not value:
            raise self._bad(f"list of {key} must not be empty")
        if key in ("texts", "inputs") and len(value) > MAX_INPUTS:
            raise self._bad(
                f"total number of {key} must be at most {MAX_INPUTS} - received {len(value)}"
            )
        if key == "texts":
            if not all(isinstance(t, str) for t in value):
                raise self._bad("texts must be a list of strings")
            return [[t] for t in value]
        if key == "images":
            items: list[list[str | ImageInfo]] = [
                [self._image(uri, i)] for i, uri in enumerate(value)
            ]
        else:
            if not model.is_v4:
                raise self._bad(
                    f"inputs is only supported for embed-v4.0 and newer, not {model.name}"
                )
            items = [self._content(entry, i) for i, entry in enumerate(value)]
        images = [seg for item in items for seg in item if isinstance(seg, ImageInfo)]
        if model.max_images is not None and len(images) > model.max_images:
            raise self._bad(
                f"total number of images must be at most {model.max_images} for {model.name} "
                f"- received {len(images)}"
            )
        if model.is_v4 and sum(i.size_bytes for i in images) > model.image_limit:
            total = sum(i.size_bytes for i in images)
            raise self._bad(
                f"the combined size of all images must be at most 20MB - received {total} bytes"
            )
        for info in images:
            if not model.is_v4 and info.size_bytes > model.image_limit:
                raise self._bad(
                    f"image size must be at most 5MB - received {info.size_bytes} bytes"
                )
        return items

    def _content(self, entry: Any, index: int) -> list[str | ImageInfo]:
        content = entry.get("content") if isinstance(entry, dict) else None
        if not isinstance(content, list) or not content:
            raise self._bad(f"inputs[{index}].content must be a non-empty list")
        segments: list[str | ImageInfo] = []
        for piece in content:
            kind = piece.get("type") if isinstance(piece, dict) else None
            if kind == "text" and isinstance(piece.get("text"), str):
                segments.append(piece["text"])
            elif kind == "image_url":
                url = piece.get("image_url")
                url = url.get("url") if isinstance(url, dict) else url
                segments.append(self._image(url, index))
            else:
                raise self._bad(f"inputs[{index}].content items must be text or image_url objects")
        return segments

    def _image(self, uri: Any, index: int) -> ImageInfo:
        if not isinstance(uri, str):
            raise self._bad(f"image at index {index} must be a data URI string")
        try:
            mime, data = parse_data_uri(uri)
        except MediaError as exc:
            raise self._bad(f"image at index {index} is not a valid data URI: {exc}") from exc
        if mime not in IMAGE_MIMES:
            raise self._bad(
                f"image at index {index} must be one of {', '.join(IMAGE_MIMES)} "
                f"- received {mime!r}"
            )
        try:
            return inspect_image(data)
        except MediaError as exc:
            raise self._bad(f"image at index {index} could not be decoded: {exc}") from exc
