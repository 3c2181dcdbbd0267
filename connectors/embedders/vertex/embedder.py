"""Vertex AI ``multimodalembedding@001`` over its documented REST ``:predict`` call.

The ``vertexai.vision_models`` SDK module is deprecated, so requests go straight to the
endpoint with ``httpx`` and a Google OAuth token (:mod:`.auth`). The model takes one instance
per request: the pipeline reaches throughput by running ``concurrency`` requests at once (each
embed call is one input, ``max_batch = 1``). Vertex returns no usage, so billed units are
counted from successful requests the way Google bills them: images, text characters and video
seconds. Texts must be shorter than 1,024 characters and are cut to fit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from mmingest.connectors.embedders.remote import (
    EncodedImage,
    Item,
    RateLimiter,
    RemoteEmbedder,
    Reply,
)
from mmingest.connectors.embedders.remote.errors import for_status, message_of, unavailable
from mmingest.connectors.embedders.remote.vectors import to_vectors
from mmingest.connectors.embedders.vertex.auth import GoogleToken
from mmingest.schemas.config import VertexEmbedderConfig
from mmingest.schemas.embedding import Distance, EmbedderInfo, EmbedderLimits, InputKind
from mmingest.schemas.errors import (
    AuthenticationFailed,
    CapabilityMissing,
    ConfigError,
    MmingestError,
)

MB = 1024 * 1024
DIMENSIONS = (128, 256, 512, 1408)
VIDEO_DIMENSION = 1408
_AUTH_HINT = "check embedder.access_token, embedder.credentials_file or your ADC login"


@dataclass(frozen=True)
class VideoSegment:
    """The embedding of one stretch of a video."""

    start_s: float
    end_s: float
    vector: Any  # a (1408,) float32 array


class VertexEmbedder(RemoteEmbedder):
    """Vertex multimodal embeddings behind the Embedder protocol (text and image)."""

    provider = "vertex"

    def __init__(self, config: VertexEmbedderConfig, *, limiter: RateLimiter | None = None):
        if config.dimension not in DIMENSIONS:
            raise ConfigError(
                f"{config.model} offers dimensions {', '.join(map(str, DIMENSIONS))}, "
                f"not {config.dimension}"
            )
        self.config = config
        self._auth = GoogleToken(config)
        if not self._auth.project:
            raise ConfigError(
                "no Google Cloud project for Vertex AI: set embedder.project or "
                "GOOGLE_CLOUD_PROJECT"
            )
        host = "aiplatform.googleapis.com"
        if config.location != "global":
            host = f"{config.location}-{host}"
        root = (config.endpoint or f"https://{host}").rstrip("/")
        self._url = (
            f"{root}/v1/projects/{self._auth.project}/locations/{config.location}"
            f"/publishers/google/models/{config.model}:predict"
        )
        info = EmbedderInfo(
            provider=self.provider,
            model=config.model,
            dimension=config.dimension,
            distance=Distance.COSINE,
            limits=EmbedderLimits(
                max_batch=1,
                max_concurrency=config.concurrency,
                max_image_bytes=20 * MB,
                image_formats=("JPEG", "PNG"),
                max_text_chars=1023,  # "Text field must be smaller than 1024 characters"
                dimensions=DIMENSIONS,
            ),
        )
        super().__init__(info, limiter=limiter or RateLimiter(requests=config.requests_per_minute))
        self._http = httpx.Client(
            timeout=config.timeout_s,
            limits=httpx.Limits(max_connections=config.concurrency * 2),
        )

    def _call(self, items: list[Item], kind: InputKind) -> Reply:
        (item,) = items  # one instance per request (max_batch = 1)
        (part,) = item
        if isinstance(part, EncodedImage):
            instance: dict[str, Any] = {
                "image": {"bytesBase64Encoded": part.base64(), "mimeType": part.mime}
            }
            field, billed = "imageEmbedding", {"images": 1}
        else:
            instance, field = {"text": part}, "textEmbedding"
            billed = {"text_characters": len(part)}
        body = {"instances": [instance], "parameters": {"dimension": self._info.dimension}}
        prediction = self._predict(body)
        return Reply([prediction.get(field) or []], billed=billed)

    def embed_video(
        self,
        video: bytes | str,
        *,
        start_s: int = 0,
        end_s: int = 120,
        interval_s: int = 16,
    ) -> list[VideoSegment]:
        """Embed a video (bytes, or a ``gs://`` URI) as one vector per ``interval_s`` segment.

        Vertex embeds video at 1408 dimensions only, so this needs ``dimension = 1408`` for the
        vectors to share a collection with images and texts. Intervals are at least 4 s.
        """
        if self._refused is not None:
            raise self._refused
        if self._info.dimension != VIDEO_DIMENSION:
            raise CapabilityMissing(
                f"Vertex video embeddings are {VIDEO_DIMENSION}-d; this embedder is configured "
                f"for {self._info.dimension}: set embedder.dimension = {VIDEO_DIMENSION}"
            )
        if isinstance(video, str):
            media: dict[str, Any] = {"gcsUri": video}
        else:
            media = {"bytesBase64Encoded": EncodedImage(video, "MP4", 0, 0).base64()}
        media["videoSegmentConfig"] = {
            "startOffsetSec": start_s,
            "endOffsetSec": end_s,
            "intervalSec": interval_s,
        }
        permit = self.limiter.acquire()
        try:
            prediction = self._predict({"instances": [{"video": media}]})
        finally:
            self.limiter.release(permit)
        segments = prediction.get("videoEmbeddings") or []
        vectors = to_vectors(
            [segment.get("embedding") for segment in segments],
            count=len(segments),
            dimension=VIDEO_DIMENSION,
            embedding_type="float",
            provider=self.provider,
        )
        result = [
            VideoSegment(float(s["startOffsetSec"]), float(s["endOffsetSec"]), vector)
            for s, vector in zip(segments, vectors, strict=True)
        ]
        seconds = 0
        if result:
            seconds = round(max(s.end_s for s in result) - min(s.start_s for s in result))
        self._meter.add(inputs=1, billed={"video_seconds": seconds})
        return result

    def _predict(self, body: dict[str, Any]) -> dict[str, Any]:
        response = self._post(body, self._auth.token())
        if response.status_code == 401 and self._auth.refreshable:
            # The token may have been revoked early: one fresh token, then give up.
            response = self._post(body, self._auth.token(force=True))
        if response.status_code != 200:
            raise self._translate(response)
        try:
            predictions = response.json()["predictions"]
            prediction = predictions[0]
        except (ValueError, KeyError, IndexError, TypeError) as error:
            raise for_status(self.provider, None, f"unreadable reply ({error!r})") from None
        if not isinstance(prediction, dict):
            raise for_status(self.provider, None, "unreadable reply (prediction is not an object)")
        return prediction

    def _post(self, body: dict[str, Any], token: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"}
        if self._auth.quota_project:
            headers["x-goog-user-project"] = self._auth.quota_project
        try:
            return self._http.post(self._url, json=body, headers=headers)
        except httpx.TimeoutException as error:
            raise unavailable(self.provider, "timed out", error, self._auth.secrets()) from None
        except httpx.HTTPError as error:
            raise unavailable(
                self.provider, "connection failed", error, self._auth.secrets()
            ) from None

    def _translate(self, response: httpx.Response) -> MmingestError:
        try:
            body: Any = response.json()
        except json.JSONDecodeError:
            body = response.text
        error = for_status(
            self.provider,
            response.status_code,
            message_of(body, response.reason_phrase or "no error message"),
            headers=response.headers,
            auth_hint=_AUTH_HINT,
            secrets=self._auth.secrets(),
        )
        if isinstance(error, AuthenticationFailed):
            self._refused = error
        return error

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()
