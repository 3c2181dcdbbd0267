"""Configuration of each backend and of the pipeline, one pydantic model per backend.

Backends of a role form a discriminated union on ``kind``; a missing ``kind`` selects the
embedded default, so ``MMINGEST_EMBEDDER__MODEL=./models/clip`` alone is a complete override.
Secrets are ``SecretStr`` so they never print.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    SecretStr,
    Tag,
    field_validator,
    model_validator,
)

from mmingest.schemas.embedder_config import (
    AzureVisionEmbedderConfig,
    CohereEmbedderConfig,
    DashScopeEmbedderConfig,
    EmbeddingCacheConfig,
    RemoteEmbedderConfig,
    VertexEmbedderConfig,
    VoyageEmbedderConfig,
)


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- embedders -------------------------------------------------------------------------------


class ClipEmbedderConfig(_Config):
    """A local CLIP-family model (CLIP, SigLIP, SigLIP 2) through ``transformers``."""

    kind: Literal["clip"] = "clip"
    model: str = Field(
        "openai/clip-vit-base-patch32",
        description="Hugging Face checkpoint id or a local directory holding the model.",
    )
    model_name: str | None = Field(
        None,
        description="Model identity recorded in collections (default: the checkpoint id, or "
        "the folder name of a local model). Set it when a local copy stands for a hub model.",
    )
    revision: str | None = Field(None, description="Checkpoint revision (branch, tag, commit).")
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    runtime: Literal["torch", "onnx", "openvino", "auto"] = Field(
        "torch",
        description="What runs the model: torch (eager), onnx (ONNX Runtime) or openvino, "
        "both on the CPU from a cached export; auto = the fastest that passes the quality gate.",
    )
    precision: Literal["auto", "fp32", "fp16", "bf16", "int8"] = Field(
        "auto",
        description="auto = fp16 on CUDA, else fp32 (for runtime auto: any that passes the "
        "gate); bf16 where the CPU has it; int8 = post-training quantisation (onnx, openvino).",
    )
    batch_size: int = Field(32, ge=1, le=4096, description="Inputs per forward pass.")
    cache_dir: Path | None = Field(None, description="Hugging Face cache (default: HF_HOME).")
    export_dir: Path | None = Field(
        None,
        description="Cache of models exported for onnx / openvino "
        "(default: <state_dir>/model-exports).",
    )
    offline: bool = Field(
        False, description="Never contact the hub (also set by HF_HUB_OFFLINE=1)."
    )
    weights_digests: Path | None = Field(
        None,
        description="File remembering the digest of each local weight file by path, size and "
        "modification time, so a checkpoint is hashed once, not on every load (default: "
        "<state_dir>/weights-digests.json; none: remember within the process only).",
    )

    @field_validator("precision", mode="before")
    @classmethod
    def _precision_alias(cls, value: Any) -> Any:
        # The torch dtype names were the only spelling before the exported runtimes.
        aliases = {"float32": "fp32", "float16": "fp16", "bfloat16": "bf16"}
        return aliases.get(value, value) if isinstance(value, str) else value


def _kind_of(default: str) -> Discriminator:
    """Discriminate a union on ``kind``, taking ``default`` when the input names none."""

    def kind(value: Any) -> str:
        if isinstance(value, dict):
            return str(value.get("kind", default))
        return str(getattr(value, "kind", default))

    return Discriminator(kind)


EmbedderConfig = Annotated[
    Annotated[ClipEmbedderConfig, Tag("clip")]
    | Annotated[CohereEmbedderConfig, Tag("cohere")]
    | Annotated[VoyageEmbedderConfig, Tag("voyage")]
    | Annotated[VertexEmbedderConfig, Tag("vertex")]
    | Annotated[AzureVisionEmbedderConfig, Tag("azure-vision")]
    | Annotated[DashScopeEmbedderConfig, Tag("dashscope")],
    _kind_of("clip"),
]

EMBEDDER_CONFIGS: tuple[type[BaseModel], ...] = (
    ClipEmbedderConfig,
    CohereEmbedderConfig,
    VoyageEmbedderConfig,
    VertexEmbedderConfig,
    AzureVisionEmbedderConfig,
    DashScopeEmbedderConfig,
)
"""Every embedder backend's configuration model, in the order the README lists them."""


# --- stores ----------------------------------------------------------------------------------


class QdrantEdgeStoreConfig(_Config):
    """Qdrant Edge: Qdrant's engine in-process, on a local path (one process per path)."""

    kind: Literal["qdrant-edge"] = "qdrant-edge"
    path: Path | None = Field(
        None, description="Store directory (default: <state_dir>/qdrant-edge)."
    )
    min_free_mb: int = Field(
        64,
        ge=0,
        description="Writes stop with an error when less than this many MiB are free on the "
        "store's disk: the engine maps its files, and a write into a full disk would kill the "
        "process (SIGBUS) instead of raising.",
    )


class QdrantStoreConfig(_Config):
    """A Qdrant server through ``qdrant-client``, or the client's local mode on a path.

    Local mode (``path``, or ``url = ":memory:"``) runs the same client API in-process: it is
    meant for tests and small data, not for production volumes.
    """

    kind: Literal["qdrant"] = "qdrant"
    url: str = Field(
        "http://localhost:6333",
        description="Server URL (REST port), or ':memory:' for an in-process local mode.",
    )
    api_key: SecretStr | None = Field(None, description="API key of the server.")
    prefer_grpc: bool = Field(True, description="Talk gRPC (faster uploads) instead of REST.")
    grpc_port: int = Field(6334, ge=1, le=65535, description="gRPC port of the server.")
    path: Path | None = Field(
        None, description="Run qdrant-client's local mode on this directory instead."
    )
    timeout_s: float = Field(60.0, gt=0, description="Seconds per request.")

    @model_validator(mode="after")
    def _one_location(self) -> QdrantStoreConfig:
        if self.path is not None and "url" in self.model_fields_set:
            raise ValueError("set either url (a server or ':memory:') or path, not both")
        return self


class MilvusStoreConfig(_Config):
    """A Milvus server, or Milvus Lite (embedded) when ``uri`` is a local file path."""

    kind: Literal["milvus"] = "milvus"
    uri: str | None = Field(
        None,
        description="Server URI (http://host:19530) or a local .db file for Milvus Lite "
        "(default: <state_dir>/milvus.db).",
    )
    token: SecretStr | None = Field(None, description="'user:password' or an API key.")
    db_name: str | None = Field(None, description="Database (default: the server's default).")
    consistency_level: Literal["Strong", "Session", "Bounded", "Eventually"] = Field(
        "Session",
        description="Consistency of new collections; Session reads this client's own writes.",
    )
    index_type: str = Field(
        "AUTOINDEX", description="Dense vector index type of new collections (server only)."
    )
    timeout_s: float = Field(60.0, gt=0, description="Seconds per request.")


WeaviateVectorizer = Literal["none", "multi2vec-clip", "multi2vec-cohere"]


class WeaviateStoreConfig(_Config):
    """A Weaviate server (1.32+), with vectors brought by mmingest or computed server-side.

    ``vectorizer = "none"`` stores mmingest's vectors as the named vectors ``image`` and
    ``caption``. A multi2vec module makes Weaviate compute both from the image (a ``BLOB``
    property) and the caption text; the client then sends images and text, never vectors.
    """

    kind: Literal["weaviate"] = "weaviate"
    url: str = Field("http://localhost:8080", description="REST URL of the server.")
    grpc_url: str | None = Field(
        None, description="gRPC URL (default: the REST host, port 50051, same security)."
    )
    api_key: SecretStr | None = Field(None, description="API key of the server.")
    vectorizer: WeaviateVectorizer = Field(
        "none", description="none (mmingest's vectors), multi2vec-clip or multi2vec-cohere."
    )
    vectorizer_model: str | None = Field(
        None, description="Model of the vectorizer (default: the module's default)."
    )
    vectorizer_dimension: int | None = Field(
        None, ge=1, description="Dimension of the vectorizer's vectors (recorded in the spec)."
    )
    vectorizer_api_key: SecretStr | None = Field(
        None, description="Provider key the module needs (multi2vec-cohere: a Cohere key)."
    )
    shared_tenant: str = Field(
        "shared",
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="Weaviate tenant holding points written without a tenant.",
    )
    timeout_s: float = Field(60.0, gt=0, description="Seconds per request.")

    @model_validator(mode="after")
    def _vectorizer_needs_a_dimension(self) -> WeaviateStoreConfig:
        if self.vectorizer != "none" and self.vectorizer_dimension is None:
            raise ValueError(
                f"vectorizer {self.vectorizer!r} needs vectorizer_dimension (e.g. 512 for "
                "CLIP ViT-B/32): it is recorded with the collection"
            )
        return self


StoreConfig = Annotated[
    Annotated[QdrantEdgeStoreConfig, Tag("qdrant-edge")]
    | Annotated[QdrantStoreConfig, Tag("qdrant")]
    | Annotated[MilvusStoreConfig, Tag("milvus")]
    | Annotated[WeaviateStoreConfig, Tag("weaviate")],
    _kind_of("qdrant-edge"),
]


# --- sources ---------------------------------------------------------------------------------


class S3SourceConfig(_Config):
    """S3 and S3-compatible stores (MinIO, R2, ...). Unset values come from the standard
    ``AWS_*`` environment variables, then web identity, ECS and EC2 instance credentials
    (obstore's chain; ``~/.aws`` profiles are not read)."""

    endpoint: str | None = Field(
        None, description="S3-compatible endpoint URL (MinIO, R2...); else AWS_ENDPOINT_URL."
    )
    region: str | None = Field(None, description="Bucket region; else AWS_REGION.")
    access_key_id: str | None = Field(None, description="Else AWS_ACCESS_KEY_ID.")
    secret_access_key: SecretStr | None = Field(None, description="Else AWS_SECRET_ACCESS_KEY.")
    session_token: SecretStr | None = Field(None, description="Else AWS_SESSION_TOKEN.")
    anonymous: bool = Field(False, description="Unsigned requests (public buckets).")
    allow_http: bool = Field(False, description="Allow plain-HTTP endpoints (local servers).")
    virtual_hosted_style: bool | None = Field(
        None, description="bucket.host URLs instead of host/bucket paths."
    )
    instance_credentials: bool = Field(
        False,
        description="Fetch credentials from the cloud's instance metadata endpoint (EC2/ECS "
        "roles) when none are set; otherwise a bucket without credentials fails at once.",
    )


class GcsSourceConfig(_Config):
    """Google Cloud Storage. Unset values come from ``GOOGLE_*`` variables and ADC."""

    service_account_path: Path | None = Field(
        None, description="Service account JSON file; else GOOGLE_SERVICE_ACCOUNT(_PATH)."
    )
    endpoint: str | None = Field(
        None, description="GCS-compatible base URL (emulators); else the key file's or Google's."
    )
    anonymous: bool = Field(False, description="Unsigned requests (public buckets).")
    allow_http: bool = Field(False, description="Allow plain-HTTP endpoints (local servers).")


class AzureSourceConfig(_Config):
    """Azure Blob Storage (``az://container/prefix``). Unset values come from ``AZURE_*``."""

    account_name: str | None = Field(None, description="Else AZURE_STORAGE_ACCOUNT_NAME.")
    account_key: SecretStr | None = Field(None, description="Else AZURE_STORAGE_ACCOUNT_KEY.")
    sas_token: SecretStr | None = Field(None, description="Shared access signature.")
    endpoint: str | None = Field(
        None, description="Blob endpoint URL override (path-style: http://host:port/account)."
    )
    anonymous: bool = Field(False, description="Unsigned requests (public containers).")
    allow_http: bool = Field(False, description="Allow plain-HTTP endpoints (local servers).")
    use_emulator: bool = Field(False, description="Talk to a local Azurite emulator.")


class SourceConfig(_Config):
    """Object storage access shared by every bucket source."""

    s3: S3SourceConfig = Field(default_factory=S3SourceConfig)
    gcs: GcsSourceConfig = Field(default_factory=GcsSourceConfig)
    azure: AzureSourceConfig = Field(default_factory=AzureSourceConfig)
    max_retries: int = Field(4, ge=0, le=20, description="Retries of a failed request.")
    timeout_s: float = Field(60.0, gt=0, description="Per-request timeout.")
    list_page_size: int = Field(
        1000,
        ge=1,
        le=10_000,
        description="Keys handed over per listing batch (server pages are the service's own).",
    )
    allowed_local_roots: list[Path] = Field(
        default_factory=list,
        description="Local folders pictures may be read from besides the ingested folder: "
        "catalog image references may point into them, and display (Retriever.image_bytes) "
        "reads local pictures only from them.",
    )


class QueryConfig(_Config):
    """Limits of the query side."""

    max_image_bytes: int = Field(
        32 * 1024 * 1024,
        ge=1,
        description="Largest query image accepted (bytes, checked before the file is read).",
    )


class HttpConfig(_Config):
    """Fetching images referenced by ``http(s)://`` URLs in catalogs."""

    allowed_hosts: list[str] = Field(
        default_factory=lambda: ["*"],
        description="Host names (fnmatch patterns, e.g. '*.example.com') URLs may point to.",
    )
    allow_private_hosts: list[str] = Field(
        default_factory=list,
        description="'host:port' entries allowed to resolve to loopback/private/link-local "
        "addresses (everything else that does is refused).",
    )
    timeout_s: float = Field(20.0, gt=0, description="Connect and read timeout.")
    max_bytes: int = Field(32 * 1024 * 1024, ge=1, description="Largest response accepted.")
    max_redirects: int = Field(3, ge=0, le=10, description="Redirects followed (each checked).")
    concurrency: int = Field(16, ge=1, le=256, description="Concurrent downloads.")


# --- extraction ------------------------------------------------------------------------------


class PdfConfig(_Config):
    """Rendering and text extraction of PDF pages."""

    dpi: float = Field(96.0, gt=0, le=600, description="Render resolution.")
    max_pixels: int = Field(
        4_000_000, ge=10_000, description="Pixel budget per rendered page (caps huge pages)."
    )
    max_pages: int = Field(1000, ge=1, description="Documents with more pages are refused.")
    max_text_chars: int = Field(20_000, ge=1, description="Page text kept for caption/keywords.")
    password: SecretStr | None = Field(None, description="Password for encrypted PDFs.")


class CatalogConfig(_Config):
    """How product catalogs (Parquet, CSV, JSON Lines, JSON) map onto products."""

    id_column: str = Field("id", description="Unique record key.")
    title_column: str | None = Field("title", description="Product title.")
    description_column: str | None = Field("description", description="Product description.")
    image_columns: list[str] = Field(
        default_factory=lambda: ["image"],
        description="Columns holding image references (key relative to the catalog, "
        "s3://, gs://, az:// or http(s):// URL; a column may hold a list).",
    )
    field_columns: list[str] | None = Field(
        None, description="Extra payload columns (default: every other column)."
    )
    missing_image: Literal["caption_only", "fail"] = Field(
        "caption_only",
        description="A record without a usable image: store its caption vector only, or fail it.",
    )
    csv_delimiter: str = Field(",", min_length=1, max_length=1, description="CSV delimiter.")
    max_json_bytes: int = Field(
        256 * 1024 * 1024, ge=1, description="Largest JSON-array catalog (JSON Lines stream)."
    )
    column_types: dict[str, Literal["text", "integer", "number", "boolean"]] = Field(
        default_factory=dict,
        description="Types of catalog columns: CSV values are text unless typed here (ids "
        "00123 and 123 stay distinct); JSON values keep the type they were written with and "
        "Parquet its schema, unless typed here.",
    )

    @field_validator("title_column", "description_column", mode="before")
    @classmethod
    def _empty_means_none(cls, value: Any) -> Any:
        # MMINGEST_CATALOG__DESCRIPTION_COLUMN= (empty) switches the column off.
        return None if value == "" else value


# --- pipeline --------------------------------------------------------------------------------


class SyncConfig(_Config):
    """Deleting the points of objects that vanished from the source."""

    max_delete_fraction: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="A sync refuses to delete more than this share of its scope (use --force).",
    )


class FlowConfig(_Config):
    """How Prefect flows run their per-batch tasks."""

    task_runner: Literal["threads", "dask"] = Field(
        "threads", description="threads (one process) or dask (prefect-dask, across workers)."
    )
    max_workers: int = Field(2, ge=1, le=256, description="Batches in flight at once.")
    dask_address: str | None = Field(
        None, description="Scheduler of an existing Dask cluster (default: a local cluster)."
    )
    task_retries: int = Field(
        2, ge=0, le=10, description="Retries of a unit task after a transient failure."
    )
    dask_workers: int = Field(
        1,
        ge=1,
        le=256,
        description="Worker processes of the local Dask cluster (1: threads in the flow's "
        "process). More than one needs a server store.",
    )
    partial_state: Literal["failed", "completed"] = Field(
        "failed",
        description="Final state of a run in which items failed: Failed, or a Completed state "
        "named CompletedWithFailures.",
    )
    collision_strategy: Literal["enqueue", "cancel"] = Field(
        "enqueue",
        description="When a deployment's run starts while another run of it is active: wait "
        "for it (enqueue) or cancel the new run (cancel).",
    )


class IngestConfig(_Config):
    """How objects are read, decoded and batched."""

    batch_size: int = Field(64, ge=1, le=10_000, description="Objects per pipeline batch.")
    read_concurrency: int = Field(16, ge=1, le=512, description="Concurrent object reads.")
    decode_workers: int = Field(2, ge=1, le=64, description="Threads decoding images.")
    prefetch_batches: int = Field(
        2, ge=1, le=32, description="Batches read and decoded ahead of the embedder."
    )
    max_object_bytes: int = Field(
        256 * 1024 * 1024, ge=1, description="Objects larger than this are refused."
    )
    max_image_pixels: int = Field(
        80_000_000,
        ge=1,
        description="Images declaring more pixels are refused as decompression bombs.",
    )
    max_caption_chars: int = Field(
        8192, ge=1, description="Captions are cut to this length for storage and embedding."
    )
    max_sidecar_bytes: int = Field(1024 * 1024, ge=1, description="Larger sidecars are refused.")
    include: list[str] = Field(
        default_factory=list, description="Only keys matching one of these globs ('**' spans /)."
    )
    exclude: list[str] = Field(
        default_factory=list, description="Skip keys matching any of these globs."
    )


__all__ = [
    "EMBEDDER_CONFIGS",
    "AzureSourceConfig",
    "AzureVisionEmbedderConfig",
    "CatalogConfig",
    "ClipEmbedderConfig",
    "CohereEmbedderConfig",
    "DashScopeEmbedderConfig",
    "EmbedderConfig",
    "EmbeddingCacheConfig",
    "GcsSourceConfig",
    "HttpConfig",
    "IngestConfig",
    "PdfConfig",
    "QdrantEdgeStoreConfig",
    "QueryConfig",
    "RemoteEmbedderConfig",
    "S3SourceConfig",
    "SourceConfig",
    "StoreConfig",
    "VertexEmbedderConfig",
    "VoyageEmbedderConfig",
]
