"""Configuration of ``mmingest serve``: the search page and HTTP API over a collection.

Safe by default: the server binds to the loopback interface, serves only the configured
collection (and tenant), and caps every request. ``api_key`` is a ``SecretStr``: it never
prints, and :meth:`mmingest.schemas.settings.Settings.redacted` masks it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class WebConfig(BaseModel):
    """The web server's address, optional API key, request caps and thumbnail cache."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field(
        "127.0.0.1", description="Interface to bind; 0.0.0.0 exposes the server to the network."
    )
    port: int = Field(8000, ge=0, le=65535, description="TCP port (0: any free port).")
    api_key: SecretStr | None = Field(
        None,
        description="When set, every /api request except health needs it (X-API-Key header or "
        "'Authorization: Bearer'). Never logged.",
    )
    max_upload_bytes: int = Field(
        8 * 1024 * 1024, ge=1024, le=256 * 1024 * 1024, description="Largest query image."
    )
    max_k: int = Field(100, ge=1, le=1000, description="Most results one search may ask for.")
    max_filter_depth: int = Field(
        4, ge=1, le=32, description="Deepest nesting of and/or/not in a search's filters."
    )
    max_filter_conditions: int = Field(
        32, ge=1, le=1024, description="Most conditions in one search's filters."
    )
    thumbnail_px: int = Field(
        256, ge=32, le=1024, description="Longest side of a thumbnail, in pixels."
    )
    view_px: int = Field(
        2048, ge=256, le=8192, description="Longest side of an opened picture, in pixels."
    )
    picture_cache_mb: int = Field(
        64, ge=0, le=4096, description="Memory for cached thumbnails and opened pictures."
    )
    remembered_hits: int = Field(
        10_000,
        ge=100,
        le=1_000_000,
        description="Search results remembered so their pictures can be served.",
    )
