"""Google Vertex AI ``multimodalembedding@001`` via ``...:predict``.

Shapes follow the Vertex multimodal embeddings API reference: ``instances`` with ``text``,
``image`` {bytesBase64Encoded | gcsUri, mimeType} and ``video`` {bytesBase64Encoded | gcsUri,
videoSegmentConfig}; ``parameters.dimension`` 128/256/512/1408 (text and image only; video stays
1408); ``predictions`` with textEmbedding / imageEmbedding / videoEmbeddings. Limits: text must
be smaller than 1024 characters (the service's own error text), images at most 20 MB, video
intervals of at least 4 s, and one instance per request (the SDK always sends exactly one; the
service's refusal reads "N instance(s) is allowed per prediction. Actual: M"). Errors use Google's
``{"error": {"code", "message", "status"}}``; auth is an OAuth Bearer access token. The
publisher-model lookup that ``vertexai``'s ``MultiModalEmbeddingModel.from_pretrained`` makes
is served too, so the real SDK works after
``vertexai.init(api_endpoint=emu.url, api_transport="rest")``.
"""

from __future__ import annotations

import math
from typing import Any

from .base import IncomingRequest, ProviderEmulator, ProviderError, Reply
from .faults import retry_after_header
from .media import ImageInfo, MediaError, decode_base64, inspect_image
from .vectors import as_json_list, derive_vector, image_part, text_part, video_part

MODELS = ("multimodalembedding@001", "multimodalembedding")
DIMENSIONS = (128, 256, 512, 1408)
FULL_DIM = 1408
MAX_TEXT_CHARS = 1024
MAX_IMAGE_BYTES = 20 * 1024 * 1024
IMAGE_FORMATS = ("PNG", "JPEG", "BMP", "GIF")
IMAGE_MIME_TYPES = ("image/png", "image/jpeg")
MIN_INTERVAL_SEC = 4
DEFAULT_SEGMENT = (0, 120, 16)  # startOffsetSec, endOffsetSec, intervalSec (SDK defaults)

_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_PATH = (
    r"/(?P<version>v1|v1beta1)/projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)"
    r"/publishers/google/models/(?P<model>[^/:]+):predict"
)

# The vertexai SDK's from_pretrained() looks the model up here before predicting.
_PUBLISHER_MODEL = r"/(?P<version>v1|v1beta1)/publishers/google/models/(?P<model>[^/:]+)"
_INSTANCE_SCHEMA = (
    "gs://google-cloud-aiplatform/schema/predict/instance/vision_embedding_model_1.0.0.yaml"
)


def _integral(value: Any) -> Any:
    """JSON numbers as ints when whole: the SDK sends protobuf Values, so 256 arrives as 256.0."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class VertexEmulator(ProviderEmulator):
    """Emulates the Vertex predict endpoint for the multimodal embedding model.

    ``api_key`` is the OAuth access token clients must send as ``Authorization: Bearer``.
    ``max_instances`` and ``video_duration_sec`` (video is not decoded, so its length is
    assumed) can be changed for tests.
    """

    provider = "vertex"

    def __init__(
        self,
        api_key: str = "test-token",
        *,
        max_instances: int = 1,
        video_duration_sec: int = 120,
        **kwargs: Any,
    ) -> None:
        super().__init__(api_key, **kwargs)
        self.max_instances = max_instances
        self.video_duration_sec = video_duration_sec
        self.route("POST", _PATH, self._predict)
        self.route("GET", _PUBLISHER_MODEL, self._publisher_model)

    def predict_path(self, project: str = "test-project", location: str = "us-central1") -> str:
        """Path of the predict call for ``multimodalembedding@001``."""
        return (
            f"/v1/projects/{project}/locations/{location}"
            "/publishers/google/models/multimodalembedding@001:predict"
        )

    def authenticate(self, request: IncomingRequest) -> None:
        """OAuth 2 access token as a Bearer header."""
        header = request.header("authorization") or ""
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or token != self.api_key:
            raise self.error(
                401,
                "Request had invalid authentication credentials. Expected OAuth 2 access token, "
                "login cookie or other valid authentication credential.",
            )

    def error_body(self, status: int, message: str, code: str | None = None) -> dict[str, Any]:
        """Google API error envelope."""
        return {
            "error": {
                "code": status,
                "message": message,
                "status": code or _STATUS.get(status, "UNKNOWN"),
            }
        }

    def rate_limit_error(self, retry_after: float | None) -> ProviderError:
        """Vertex quota errors are 429 RESOURCE_EXHAUSTED."""
        headers = {} if retry_after is None else {"Retry-After": retry_after_header(retry_after)}
        quota = "aiplatform.googleapis.com/online_prediction_requests_per_base_model"
        message = (
            f"Quota exceeded for {quota} with base model: multimodalembedding. "
            "Please submit a quota increase request."
        )
        return self.error(429, message, headers=headers)

    def _bad(self, message: str) -> ProviderError:
        return self.error(400, message)

    def _publisher_model(self, request: IncomingRequest) -> Reply:
        model = request.params["model"]
        if model not in MODELS:
            raise self.error(404, f"Publisher Model `publishers/google/models/{model}` not found.")
        name = "multimodalembedding@001"
        body = {
            "name": f"publishers/google/models/{name}",
            "versionId": "001",
            "publisherModelTemplate": (
                f"projects/{{user-project}}/locations/{{location}}/publishers/google/models/{name}"
            ),
            "predictSchemata": {"instanceSchemaUri": _INSTANCE_SCHEMA},
            "launchStage": "GA",
        }
        return Reply(body)

    def _predict(self, request: IncomingRequest) -> Reply:
        model = request.params["model"]
        if model not in MODELS:
            raise self.error(
                404,
                f"Publisher Model `projects/{request.params['project']}/locations/"
                f"{request.params['location']}/publishers/google/models/{model}` not found.",
            )
        body = request.json
        if not isinstance(body, dict):
            raise self._bad("Request body must be a JSON object.")
        instances = body.get("instances")
        if not isinstance(instances, list) or not instances:
            raise self._bad("instances must be a non-empty list.")
        if len(instances) > self.max_instances:
            raise self._bad(
                f"{self.max_instances} instance(s) is allowed per prediction. "
                f"Actual: {len(instances)}"
            )
        parameters = body.get("parameters") or {}
        if not isinstance(parameters, dict):
            raise self._bad("parameters must be an object.")
        dim = _integral(parameters.get("dimension", FULL_DIM))
        if dim not in DIMENSIONS or isinstance(dim, bool):
            raise self._bad(
                f"Invalid dimension {dim!r}. Supported dimensions: 128, 256, 512, 1408."
            )
        predictions, billed = [], {"text_characters": 0, "images": 0, "video_seconds": 0}
        for index, instance in enumerate(instances):
            predictions.append(self._embed_instance(instance, index, dim, billed))
        billed = {unit: amount for unit, amount in billed.items() if amount}
        reply = {"predictions": predictions, "deployedModelId": "", "model": model}
        return Reply(reply, inputs=len(predictions), billed=billed)

    def _embed_instance(
        self, instance: Any, index: int, dim: int, billed: dict[str, int]
    ) -> dict[str, Any]:
        if not isinstance(instance, dict):
            raise self._bad(f"instances[{index}] must be an object.")
        unknown = set(instance) - {"text", "image", "video"}
        if unknown:
            raise self._bad(f"instances[{index}] has unknown fields: {', '.join(sorted(unknown))}.")
        if not any(instance.get(key) is not None for key in ("text", "image", "video")):
            raise self._bad(f"instances[{index}] needs at least one of text, image or video.")
        prediction: dict[str, Any] = {}
        namespace = "vertex/multimodalembedding@001"
        text = instance.get("text")
        if text is not None:
            if not isinstance(text, str):
                raise self._bad(f"instances[{index}].text must be a string.")
            if len(text) >= MAX_TEXT_CHARS:
                raise self._bad(
                    "Multimodal embedding failed with the following error: "
                    f"Text field must be smaller than {MAX_TEXT_CHARS} characters."
                )
            vector = derive_vector(namespace, [text_part(text)], dim, FULL_DIM)
            prediction["textEmbedding"] = as_json_list(vector)
            billed["text_characters"] += len(text)
        if instance.get("image") is not None:
            info = self._image(instance["image"], index)
            vector = derive_vector(namespace, [image_part(info.data)], dim, FULL_DIM)
            prediction["imageEmbedding"] = as_json_list(vector)
            billed["images"] += 1
        if instance.get("video") is not None:
            prediction["videoEmbeddings"] = self._video(instance["video"], index, billed)
        return prediction

    def _media_bytes(self, media: Any, field: str) -> bytes:
        if not isinstance(media, dict):
            raise self._bad(f"{field} must be an object.")
        has_bytes, has_uri = "bytesBase64Encoded" in media, "gcsUri" in media
        if has_bytes == has_uri:
            raise self._bad(f"{field} needs exactly one of bytesBase64Encoded or gcsUri.")
        if has_bytes:
            try:
                return decode_base64(str(media["bytesBase64Encoded"]))
            except MediaError as exc:
                raise self._bad(f"{field}.bytesBase64Encoded: {exc}") from exc
        uri = media["gcsUri"]
        if not isinstance(uri, str) or not uri.startswith("gs://"):
            raise self._bad(f"{field}.gcsUri must be a gs:// URI, got {uri!r}.")
        data = self.fetch_asset(uri)
        if data is None:
            raise self.error(404, f"{field}.gcsUri {uri} was not found or is not readable.")
        return data

    def _image(self, image: Any, index: int) -> ImageInfo:
        field = f"instances[{index}].image"
        data = self._media_bytes(image, field)
        mime = image.get("mimeType")
        if mime is not None and mime not in IMAGE_MIME_TYPES:
            raise self._bad(f"{field}.mimeType must be one of {', '.join(IMAGE_MIME_TYPES)}.")
        if len(data) > MAX_IMAGE_BYTES:
            raise self._bad(f"{field} is {len(data)} bytes; the image size limit is 20 MB.")
        try:
            info = inspect_image(data)
        except MediaError as exc:
            raise self._bad(f"{field}: {exc}") from exc
        if info.format not in IMAGE_FORMATS:
            raise self._bad(
                f"{field}: unsupported image format {info.format}; use BMP, GIF, JPG or PNG."
            )
        return info

    def _video(self, video: Any, index: int, billed: dict[str, int]) -> list[dict[str, Any]]:
        field = f"instances[{index}].video"
        data = self._media_bytes(video, field)
        config = video.get("videoSegmentConfig") or {}
        if not isinstance(config, dict):
            raise self._bad(f"{field}.videoSegmentConfig must be an object.")
        start = _integral(config.get("startOffsetSec", DEFAULT_SEGMENT[0]))
        end = _integral(config.get("endOffsetSec", DEFAULT_SEGMENT[1]))
        interval = _integral(config.get("intervalSec", DEFAULT_SEGMENT[2]))
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end, interval)):
            raise self._bad(f"{field}.videoSegmentConfig offsets and interval must be integers.")
        if interval < MIN_INTERVAL_SEC:
            raise self._bad(
                f"{field}: intervalSec must be at least {MIN_INTERVAL_SEC} seconds, got {interval}."
            )
        end = min(end, self.video_duration_sec)
        if start < 0 or start >= end:
            raise self._bad(f"{field}: startOffsetSec must be >= 0 and before endOffsetSec.")
        segments = []
        for seg_start in range(start, end, interval):
            seg_end = min(seg_start + interval, end)
            vector = derive_vector(
                "vertex/multimodalembedding@001", [video_part(data, seg_start, seg_end)], FULL_DIM
            )
            segments.append(
                {
                    "startOffsetSec": seg_start,
                    "endOffsetSec": seg_end,
                    "embedding": as_json_list(vector),
                }
            )
        billed["video_seconds"] += math.ceil(end - start)
        return segments
