"""Open a weaviate-client connection from a :class:`WeaviateStoreConfig`."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import weaviate
from weaviate.classes.init import AdditionalConfig, Auth, Timeout

from mmingest.schemas.config import WeaviateStoreConfig
from mmingest.schemas.errors import ConfigError

DEFAULT_GRPC_PORT = 50051

_PROVIDER_HEADERS = {"multi2vec-cohere": "X-Cohere-Api-Key"}
"""Header each vectorizer module reads its provider key from."""


def _endpoint(url: str, default_port: int) -> tuple[str, int, bool]:
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme not in ("http", "https", "grpc", "grpcs") or not parts.hostname:
        raise ConfigError(f"invalid Weaviate URL {url!r}: expected http(s)://host[:port]")
    secure = parts.scheme in ("https", "grpcs")
    return parts.hostname, parts.port or (443 if secure else default_port), secure


def connect(config: WeaviateStoreConfig) -> Any:
    """A connected ``WeaviateClient`` (REST + gRPC; raises the client's errors)."""
    http_host, http_port, http_secure = _endpoint(config.url, 8080)
    if config.grpc_url:
        grpc_host, grpc_port, grpc_secure = _endpoint(config.grpc_url, DEFAULT_GRPC_PORT)
    else:
        grpc_host, grpc_port, grpc_secure = http_host, DEFAULT_GRPC_PORT, http_secure
    headers = {}
    header = _PROVIDER_HEADERS.get(config.vectorizer)
    if header and config.vectorizer_api_key is not None:
        headers[header] = config.vectorizer_api_key.get_secret_value()
    timeout = int(config.timeout_s)
    return weaviate.connect_to_custom(
        http_host=http_host,
        http_port=http_port,
        http_secure=http_secure,
        grpc_host=grpc_host,
        grpc_port=grpc_port,
        grpc_secure=grpc_secure,
        headers=headers or None,
        auth_credentials=(
            Auth.api_key(config.api_key.get_secret_value()) if config.api_key else None
        ),
        additional_config=AdditionalConfig(
            timeout=Timeout(init=min(timeout, 30), query=timeout, insert=timeout)
        ),
    )
