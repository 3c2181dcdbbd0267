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

from dotenv import dotenv_values
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
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
from mmingest.schemas.errors import ConfigError
from mmingest.schemas.settings_sources import CheckedTomlSource, unknown_settings
from mmingest.schemas.web_config import WebConfig

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
    web: WebConfig = Field(default_factory=WebConfig)

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
    def _default_weights_digests(self) -> Settings:
        if isinstance(self.embedder, ClipEmbedderConfig) and self.embedder.weights_digests is None:
            path = self.state_dir / "weights-digests.json"
            embedder = self.embedder.model_copy(update={"weights_digests": path})
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
        # The process environment first, then .env (where MMINGEST_* settings are read too).
        variables = {**_dotenv(self.model_config.get("env_file")), **os.environ}
        for field, names in embedder.ENV_FALLBACKS.items():
            if getattr(embedder, field) is not None:
                continue
            value = next((variables[n] for n in names if variables.get(n, "").strip()), None)
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
        named = os.environ.get(CONFIG_FILE_VARIABLE, "").strip()
        toml_file = Path(named or DEFAULT_CONFIG_FILE)
        toml_settings = CheckedTomlSource(settings_cls, toml_file, named=bool(named))
        # Unknown names are errors with a suggestion (MMINGEST_COLECTION, [embeder], colection =)
        # rather than settings silently left at their defaults.
        given = init_settings.init_kwargs if isinstance(init_settings, InitSettingsSource) else {}
        dotenv = dotenv_settings if isinstance(dotenv_settings, DotEnvSettingsSource) else None
        problems = unknown_settings(
            settings_cls,
            arguments=given,
            environment=os.environ,
            dotenv=dotenv.env_vars if dotenv is not None else {},
            toml=toml_settings.toml_data,
            toml_file=toml_file,
        )
        if problems:
            raise ConfigError("; ".join(problems))
        return (init_settings, env_settings, dotenv_settings, toml_settings, file_secret_settings)

    def redacted(self) -> dict[str, Any]:
        """The settings as plain data with every secret masked (for display)."""
        return self.model_dump(mode="json")


def _dotenv(env_file: Any) -> dict[str, str]:
    """The variables of the configured ``.env`` file (empty when there is none)."""
    if not isinstance(env_file, str | Path) or not Path(env_file).is_file():
        return {}
    return {name: value for name, value in dotenv_values(env_file).items() if value is not None}
