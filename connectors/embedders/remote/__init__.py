"""Shared machinery of the provider embedders: inputs, quotas, errors, vector types."""

from mmingest.connectors.embedders.remote.embedder import (
    Item,
    RemoteEmbedder,
    Reply,
    api_key,
    auth_hint,
)
from mmingest.connectors.embedders.remote.inputs import EncodedImage, Part, encode_image, fit_text
from mmingest.connectors.embedders.remote.ratelimit import Permit, RateLimiter

__all__ = [
    "EncodedImage",
    "Item",
    "Part",
    "Permit",
    "RateLimiter",
    "RemoteEmbedder",
    "Reply",
    "api_key",
    "auth_hint",
    "encode_image",
    "fit_text",
]
