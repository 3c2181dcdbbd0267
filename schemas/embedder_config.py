"""Configuration of the provider embedders and of the embedding cache.

One model per provider, joined with the local CLIP config into
:data:`mmingest.schemas.config.EmbedderConfig` (a union discriminated on ``kind``). API keys are
``SecretStr``: they never print, and :meth:`mmingest.schemas.settings.Settings.redacted` masks
them. Each
model names the provider's own environment variables in ``ENV_FALLBACKS``; the edge
(:class:`~mmingest.schemas.settings.Settings`) fills an unset field from them, so ``CO_API_KEY``
works
as well as ``MMINGEST_EMBEDDER__API_KEY`` (which wins when both are set).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

EmbeddingType = Literal["float", "int8", "uint8", "binary", "ubinary"]


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RemoteEmbedderConfig(_Config):
    """Settings every provider API shares: timeouts, batching and quotas."""

    ENV_FALLBACKS: ClassVar[dict[str, tuple[str, ...]]] = {}

    timeout_s: float = Field(60.0, gt=0, le=600, description="Seconds per provider request.")
    batch_size: int | None = Field(
        None, ge=1, description="Inputs per request (default and maximum: the provider's limit)."
    )
    concurrency: int = Field(2, ge=1, le=64, description="Provider requests in flight at once.")
    requests_per_minute: int | None = Field(
        None, ge=1, description="Client-side request quota; calls wait instead of being refused."
    )


class ApiKeyConfig(RemoteEmbedderConfig):
    """A provider that authenticates with an API key."""

    api_key: SecretStr | None = Field(None, description="API key (never logged or shown).")


class TokenQuotaConfig(ApiKeyConfig):
    """A provider that reports tokens, so a tokens-per-minute quota can be kept too."""

    tokens_per_minute: int | None = Field(
        None, ge=1, description="Client-side token quota (estimated before, settled after)."
    )


class CohereEmbedderConfig(TokenQuotaConfig):
    """Cohere Embed v2 (``embed-v4.0`` and the v3 embed models) through the ``cohere`` SDK."""

    ENV_FALLBACKS: ClassVar[dict[str, tuple[str, ...]]] = {"api_key": ("CO_API_KEY",)}

    kind: Literal["cohere"] = "cohere"
    model: str = Field("embed-v4.0", description="Cohere embed model id.")
    dimension: int | None = Field(
        None, description="output_dimension: 256, 512, 1024 or 1536 (embed-v4.0, default 1536)."
    )
    embedding_type: EmbeddingType = Field(
        "float", description="What Cohere returns; stored as float32 either way (see README)."
    )
    base_url: str | None = Field(None, description="API base URL (default: Cohere's own).")


class VoyageEmbedderConfig(TokenQuotaConfig):
    """Voyage AI multimodal embeddings through the ``voyageai`` SDK."""

    ENV_FALLBACKS: ClassVar[dict[str, tuple[str, ...]]] = {"api_key": ("VOYAGE_API_KEY",)}

    kind: Literal["voyage"] = "voyage"
    model: str = Field("voyage-multimodal-3", description="Voyage multimodal model id.")
    dimension: int | None = Field(
        None, description="output_dimension (voyage-multimodal-3.5: 256/512/1024/2048)."
    )
    embedding_type: EmbeddingType = Field(
        "float", description="output_dtype (quantized types on voyage-multimodal-3.5 only)."
    )
    base_url: str | None = Field(None, description="API base URL (default: Voyage's own).")


class VertexEmbedderConfig(RemoteEmbedderConfig):
    """Google Vertex AI ``multimodalembedding@001`` over its REST ``:predict`` call.

    Credentials: ``access_token`` when given, else ``credentials_file`` (a service account or
    user credentials JSON), else Application Default Credentials.
    """

    ENV_FALLBACKS: ClassVar[dict[str, tuple[str, ...]]] = {
        "project": ("GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT")
    }

    kind: Literal["vertex"] = "vertex"
    model: str = Field("multimodalembedding@001", description="Vertex publisher model id.")
    project: str | None = Field(None, description="Google Cloud project (default: ADC's).")
    location: str = Field("us-central1", description="Vertex AI region.")
    endpoint: str | None = Field(
        None, description="API root (default: https://<location>-aiplatform.googleapis.com)."
    )
    dimension: int = Field(1408, description="128, 256, 512 or 1408.")
    credentials_file: Path | None = Field(None, description="Credentials JSON instead of ADC.")
    access_token: SecretStr | None = Field(
        None, description="A ready OAuth access token instead of ADC (short-lived)."
    )
    concurrency: int = Field(8, ge=1, le=64, description="Requests in flight (one input each).")


class AzureVisionEmbedderConfig(ApiKeyConfig):
    """Azure AI Vision multimodal embeddings 4.0 (``retrieval:vectorizeImage/Text``, REST)."""

    ENV_FALLBACKS: ClassVar[dict[str, tuple[str, ...]]] = {
        "api_key": ("VISION_KEY",),
        "endpoint": ("VISION_ENDPOINT",),
    }

    kind: Literal["azure-vision"] = "azure-vision"
    endpoint: str | None = Field(
        None, description="Resource endpoint, e.g. https://<name>.cognitiveservices.azure.com."
    )
    api_version: str = Field("2024-02-01", description="api-version query parameter.")
    model_version: str = Field(
        "2023-04-15", description="model-version: 2023-04-15 (multilingual) or 2022-04-11."
    )
    concurrency: int = Field(8, ge=1, le=64, description="Requests in flight (one input each).")


class DashScopeEmbedderConfig(TokenQuotaConfig):
    """Alibaba Cloud Model Studio (DashScope) ``tongyi-embedding-vision-plus`` / ``-flash``."""

    ENV_FALLBACKS: ClassVar[dict[str, tuple[str, ...]]] = {"api_key": ("DASHSCOPE_API_KEY",)}

    kind: Literal["dashscope"] = "dashscope"
    model: str = Field("tongyi-embedding-vision-plus", description="DashScope model id.")
    dimension: int | None = Field(
        None, description="plus: 64-1152 (default 1152); flash: 64-768 (default 768)."
    )
    base_url: str | None = Field(
        None,
        description="API base URL (default: the SDK's; international accounts use "
        "https://dashscope-intl.aliyuncs.com/api/v1).",
    )
    concurrency: int = Field(4, ge=1, le=64, description="Requests in flight.")


class EmbeddingCacheConfig(_Config):
    """The local embedding cache: identical inputs are embedded (and paid for) once."""

    enabled: bool = Field(True, description="Look up and record embeddings in the cache.")
    path: Path | None = Field(
        None, description="SQLite file (default: <state_dir>/embedding-cache.sqlite3)."
    )
