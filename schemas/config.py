"""Configuration of each backend and of the pipeline, one pydantic model per backend.

Backends of a role form a discriminated union on ``kind``; a missing ``kind`` selects the
embedded default, so ``MMINGEST_EMBEDDER__MODEL=./models/clip`` alone is a complete override.
Secrets are ``SecretStr`` so they never print.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from schemas.embedder_config import (
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
    precision: Literal["auto", "float32", "float16", "bfloat16"] = Field(
        "auto", description="auto = float16 on CUDA, float32 elsewhere."
    )
    batch_size: int = Field(32, ge=1, le=4096, description="Inputs per forward pass.")
    cache_dir: Path | None = Field(None, description="Hugging Face cache (default: HF_HOME).")
    offline: bool = Field(
        False, description="Never contact the hub (also set by HF_HUB_OFFLINE=1)."
    )


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


StoreConfig = Annotated[
    Annotated[QdrantEdgeStoreConfig, Tag("qdrant-edge")],
    _kind_of("qdrant-edge"),
]


# --- pipeline --------------------------------------------------------------------------------


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


__all__ = [
    "EMBEDDER_CONFIGS",
    "AzureVisionEmbedderConfig",
    "ClipEmbedderConfig",
    "CohereEmbedderConfig",
    "DashScopeEmbedderConfig",
    "EmbedderConfig",
    "EmbeddingCacheConfig",
    "IngestConfig",
    "QdrantEdgeStoreConfig",
    "RemoteEmbedderConfig",
    "StoreConfig",
    "VertexEmbedderConfig",
    "VoyageEmbedderConfig",
]
