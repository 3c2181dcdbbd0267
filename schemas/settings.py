"""Settings: the whole configuration, read from the environment at the edge (CLI, flows).

Sources, highest priority first: explicit arguments, ``MMINGEST_*`` environment variables
(``__`` separates nesting levels: ``MMINGEST_EMBEDDER__MODEL``), a ``.env`` file, a TOML file
(``mmingest.toml`` in the working directory, or the path in ``MMINGEST_CONFIG``), defaults.
Only ``flows/`` builds :class:`Settings`; everything below receives explicit config objects.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from mmingest.schemas.collection import validate_collection_name
from mmingest.schemas.config import (
    CatalogConfig,
    ClipEmbedderConfig,
    EmbedderConfig,
    EmbeddingCacheConfig,
    FlowConfig,
    HttpConfig,
    IngestConfig,
    MilvusStoreConfig,
    PdfConfig,
    QdrantEdgeStoreConfig,
    QueryConfig,
    RemoteEmbedderConfig,
    SourceConfig,
    StoreConfig,
    SyncConfig,
)

CONFIG_FILE_VARIABLE = "MMINGEST_CONFIG"
DEFAULT_CONFIG_FILE = "mmingest.toml"


class Settings(BaseSettings):
    """Everything mmingest can be told, with the embedded defaults filled in."""

    model_config = SettingsConfigDict(
        env_prefix="MMINGEST_",
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    collection: str = Field("mmingest", description="Collection (or alias) to write and query.")
    tenant: str | None = Field(None, description="Tenant stamped on every point and query.")
    state_dir: Path = Field(
        Path(".mmingest"), description="Local state: embedded stores, dead letters, caches."
    )
    embedder: EmbedderConfig = Field(default_factory=ClipEmbedderConfig)
    store: StoreConfig = Field(default_factory=QdrantEdgeStoreConfig)
    ingest: IngestConfig = Field(default_factory=IngestConfig)
    source: SourceConfig = Field(default_factory=SourceConfig)
    http: HttpConfig = Field(default_factory=HttpConfig)
    pdf: PdfConfig = Field(default_factory=PdfConfig)
    catalog: CatalogConfig = Field(default_factory=CatalogConfig)
    embedding_cache: EmbeddingCacheConfig = Field(default_factory=EmbeddingCacheConfig)
    sync: SyncConfig = Field(default_factory=SyncConfig)
    flow: FlowConfig = Field(default_factory=FlowConfig)
    query: QueryConfig = Field(default_factory=QueryConfig)

    @field_validator("collection")
    @classmethod
    def _check_collection(cls, name: str) -> str:
        return validate_collection_name(name)

    @model_validator(mode="after")
    def _default_store_path(self) -> Settings:
        if isinstance(self.store, QdrantEdgeStoreConfig) and self.store.path is None:
            store = self.store.model_copy(update={"path": self.state_dir / "qdrant-edge"})
            object.__setattr__(self, "store", store)
        elif isinstance(self.store, MilvusStoreConfig) and self.store.uri is None:
            lite = self.store.model_copy(update={"uri": str(self.state_dir / "milvus.db")})
            object.__setattr__(self, "store", lite)
        return self

    @model_validator(mode="after")
    def _default_export_dir(self) -> Settings:
        if isinstance(self.embedder, ClipEmbedderConfig) and self.embedder.export_dir is None:
            exports = self.state_dir / "model-exports"
            embedder = self.embedder.model_copy(update={"export_dir": exports})
            object.__setattr__(self, "embedder", embedder)
        return self

    @model_validator(mode="after")
    def _default_cache_path(self) -> Settings:
        if self.embedding_cache.path is None:
            path = self.state_dir / "embedding-cache.sqlite3"
            cache = self.embedding_cache.model_copy(update={"path": path})
            object.__setattr__(self, "embedding_cache", cache)
        return self

    @model_validator(mode="after")
    def _provider_environment(self) -> Settings:
        # Providers' own variables (CO_API_KEY, VISION_ENDPOINT...) fill what MMINGEST_* left
        # unset, so credentials set up for a provider's SDK work here unchanged.
        embedder = self.embedder
        if not isinstance(embedder, RemoteEmbedderConfig):
            return self
        updates: dict[str, Any] = {}
        for field, names in embedder.ENV_FALLBACKS.items():
            if getattr(embedder, field) is not None:
                continue
            value = next((os.environ[n] for n in names if os.environ.get(n, "").strip()), None)
            if value is not None:
                is_secret = type(embedder).model_fields[field].annotation == SecretStr | None
                updates[field] = SecretStr(value.strip()) if is_secret else value.strip()
        if updates:
            object.__setattr__(self, "embedder", embedder.model_copy(update=updates))
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = Path(os.environ.get(CONFIG_FILE_VARIABLE, DEFAULT_CONFIG_FILE))
        toml_settings = TomlConfigSettingsSource(settings_cls, toml_file=toml_file)
        return (init_settings, env_settings, dotenv_settings, toml_settings, file_secret_settings)

    def redacted(self) -> dict[str, Any]:
        """The settings as plain data with every secret masked (for display)."""
        return self.model_dump(mode="json")
