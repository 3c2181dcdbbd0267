"""What every provider connector shares: limits, request planning, quota, accounting.

A provider subclass says how one request is sent (:meth:`RemoteEmbedder._call`) and how many
tokens an image costs; this base fits texts and encodes images to the limits before anything is
sent, splits an embed call into requests within the provider's per-request limits, takes a
permit from the rate limiter for each, counts billed units from the replies, and stops calling
after the first credentials failure.

Retries are the pipeline's (:mod:`mmingest.pipelines.retry`): SDK retries are switched off so that
attempts are not multiplied, and this base never retries by itself.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
from PIL import Image
from pydantic import SecretStr

from mmingest.connectors.embedders.base import Vectors
from mmingest.connectors.embedders.remote.inputs import (
    EncodedImage,
    Part,
    encode_image,
    estimate_text_tokens,
    fit_text,
)
from mmingest.connectors.embedders.remote.ratelimit import RateLimiter
from mmingest.connectors.embedders.remote.vectors import to_vectors
from mmingest.schemas.embedding import EmbedderInfo, EmbedderUsage, InputKind
from mmingest.schemas.errors import (
    AuthenticationFailed,
    CapabilityMissing,
    ConfigError,
    InvalidInput,
    MmingestError,
    ProviderUnavailable,
    RateLimited,
)

log = logging.getLogger(__name__)

Item = tuple[Part, ...]
"""One input: a text, an image, or (mixed) several of them in order."""


@dataclass
class Reply:
    """What one provider request gave back."""

    rows: Sequence[Sequence[float]] | None
    billed: dict[str, int] = field(default_factory=dict)
    tokens: int | None = None
    """Tokens the provider counted, for the token quota (None: keep the estimate)."""


class UsageMeter:
    """Thread-safe running totals of requests, inputs and billed units."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._usage = EmbedderUsage()

    def add(self, *, inputs: int, billed: dict[str, int]) -> None:
        """Count one successful request."""
        with self._lock:
            self._usage = self._usage + EmbedderUsage(
                requests=1, inputs=inputs, billed_units=billed
            )

    def snapshot(self) -> EmbedderUsage:
        """Totals so far."""
        with self._lock:
            return self._usage


class RemoteEmbedder(ABC):
    """Base of the provider connectors (Cohere, Voyage, Vertex, Azure Vision, DashScope)."""

    provider: ClassVar[str]

    def __init__(self, info: EmbedderInfo, *, limiter: RateLimiter | None = None) -> None:
        self._info = info
        self.limiter = limiter or RateLimiter()
        self._meter = UsageMeter()
        self._refused: AuthenticationFailed | None = None

    @property
    def info(self) -> EmbedderInfo:
        """Provider, model, dimension, embedding type and limits."""
        return self._info

    def usage(self) -> EmbedderUsage:
        """Successful requests, inputs and billed units since this embedder was created."""
        return self._meter.snapshot()

    def embed_texts(self, texts: Sequence[str], *, kind: InputKind = InputKind.DOCUMENT) -> Vectors:
        """Embed texts as documents or as search queries (the provider's input type)."""
        limits = self._info.limits
        items: list[Item] = [(fit_text(text, limits, provider=self.provider),) for text in texts]
        return self._embed(items, kind)

    def embed_images(self, images: Sequence[Image.Image]) -> Vectors:
        """Embed images, encoded within the provider's format and size limits."""
        return self._embed([(self._encode(image),) for image in images], InputKind.DOCUMENT)

    def embed_mixed(
        self,
        items: Sequence[Sequence[str | Image.Image]],
        *,
        kind: InputKind = InputKind.DOCUMENT,
    ) -> Vectors:
        """One vector per item from its texts and images together (providers that fuse)."""
        if not self._info.mixed_inputs:
            raise CapabilityMissing(
                f"{self.provider}:{self._info.model} embeds texts and images separately; it "
                "cannot fuse them into one vector"
            )
        prepared: list[Item] = []
        for item in items:
            parts: list[Part] = []
            for part in item:
                if isinstance(part, str):
                    parts.append(fit_text(part, self._info.limits, provider=self.provider))
                else:
                    parts.append(self._encode(part))
            if not parts:
                raise InvalidInput(f"{self.provider} cannot embed an empty mixed input")
            prepared.append(tuple(parts))
        return self._embed(prepared, kind)

    @abstractmethod
    def close(self) -> None:
        """Release the provider's HTTP client."""

    # --- what a provider provides ------------------------------------------------------------

    @abstractmethod
    def _call(self, items: list[Item], kind: InputKind) -> Reply:
        """Send one request for ``items``; translate every failure into mmingest errors."""

    def _image_tokens(self, image: EncodedImage) -> int:
        """Tokens the provider counts for ``image`` (0 where it bills per image)."""
        return 0

    # --- shared machinery --------------------------------------------------------------------

    def _encode(self, image: Image.Image) -> EncodedImage:
        return encode_image(image, self._info.limits, provider=self.provider)

    def _tokens(self, item: Item) -> int:
        return sum(
            estimate_text_tokens(part) if isinstance(part, str) else self._image_tokens(part)
            for part in item
        )

    def _embed(self, items: list[Item], kind: InputKind) -> Vectors:
        if not items:
            return np.zeros((0, self._info.dimension), dtype=np.float32)
        return np.vstack([self._send(request, kind) for request in self._requests(items)])

    def _requests(self, items: list[Item]) -> Iterator[list[Item]]:
        """Consecutive groups of ``items`` within every per-request limit."""
        limits = self._info.limits
        request: list[Item] = []
        images = image_bytes = tokens = 0
        for item in items:
            item_images = [part for part in item if isinstance(part, EncodedImage)]
            item_bytes = sum(len(image.data) for image in item_images)
            item_tokens = self._tokens(item)
            full = request and (
                len(request) >= limits.max_batch
                or _over(limits.max_request_images, images + len(item_images))
                or _over(limits.max_request_image_bytes, image_bytes + item_bytes)
                or _over(limits.max_request_tokens, tokens + item_tokens)
            )
            if full:
                yield request
                request, images, image_bytes, tokens = [], 0, 0, 0
            request.append(item)
            images += len(item_images)
            image_bytes += item_bytes
            tokens += item_tokens
        if request:
            yield request

    def _send(self, items: list[Item], kind: InputKind) -> Vectors:
        if self._refused is not None:
            # Wrong credentials fail every call the same way: stop here, send nothing.
            raise self._refused
        permit = self.limiter.acquire(sum(self._tokens(item) for item in items))
        reply: Reply | None = None
        try:
            reply = self._call(items, kind)
            if not isinstance(reply.billed, dict) or not all(
                isinstance(count, int) for count in reply.billed.values()
            ):
                raise TypeError(f"billed units are {type(reply.billed).__name__}, not counts")
        except RateLimited as error:
            if error.retry_after:
                self.limiter.pause(error.retry_after)
            raise
        except AuthenticationFailed as error:
            self._refused = error
            raise
        except MmingestError:
            raise
        except Exception as error:
            # The provider boundary: an SDK choking on a 200 reply of the wrong shape ([1, 2],
            # "text", {"embeddings": "x"}) raises TypeError, KeyError, a validation error...
            # That is a malformed reply, which a retry may well cure; it must not escape.
            raise ProviderUnavailable(
                f"{self.provider} sent a reply that could not be read "
                f"({type(error).__name__}: a body of the wrong shape)"
            ) from error
        finally:
            self.limiter.release(permit, tokens=_reported_tokens(reply))
        vectors = to_vectors(
            reply.rows,
            count=len(items),
            dimension=self._info.dimension,
            embedding_type=self._info.embedding_type,
            provider=self.provider,
        )
        self._meter.add(inputs=len(items), billed=reply.billed)
        return vectors


def _reported_tokens(reply: Reply | None) -> int | None:
    if reply is None:
        return 0
    return reply.tokens if isinstance(reply.tokens, int) and reply.tokens >= 0 else None


def _over(limit: int | None, value: int) -> bool:
    return limit is not None and value > limit


def api_key(key: SecretStr | None, provider: str, variables: Sequence[str]) -> str:
    """The configured key's value, or a ConfigError saying where to put one."""
    value = key.get_secret_value().strip() if key is not None else ""
    if not value:
        names = " or ".join(["MMINGEST_EMBEDDER__API_KEY", *variables])
        raise ConfigError(f"no {provider} API key: set {names} (or [embedder] api_key)")
    return value


def auth_hint(variables: Sequence[str]) -> str:
    """Where the user fixes a rejected key."""
    names = " or ".join(["MMINGEST_EMBEDDER__API_KEY", *variables])
    return f"check {names}"
