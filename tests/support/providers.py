"""Each provider embedder paired with its emulator, for tests and benchmarks.

A :class:`ProviderCase` knows how to point the product's config at a running emulator (the
SDK's base URL, or the REST endpoint), so one test can run against every provider.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from mmingest.connectors.embedders.azure_vision import AzureVisionEmbedder
from mmingest.connectors.embedders.cohere import CohereEmbedder
from mmingest.connectors.embedders.dashscope import DashScopeEmbedder
from mmingest.connectors.embedders.remote import RateLimiter, RemoteEmbedder
from mmingest.connectors.embedders.vertex import VertexEmbedder
from mmingest.connectors.embedders.voyage import VoyageEmbedder
from mmingest.schemas.config import (
    AzureVisionEmbedderConfig,
    CohereEmbedderConfig,
    DashScopeEmbedderConfig,
    VertexEmbedderConfig,
    VoyageEmbedderConfig,
)
from tests.emulators.providers import (
    AzureVisionEmulator,
    CohereEmulator,
    DashScopeEmulator,
    ProviderEmulator,
    VertexEmulator,
    VoyageEmulator,
)


@dataclass(frozen=True)
class ProviderCase:
    """One provider: its emulator, its embedder class and a config pointing at the emulator."""

    name: str
    emulator: type[ProviderEmulator]
    embedder: type[RemoteEmbedder]
    configure: Callable[[ProviderEmulator, str, dict[str, Any]], Any]

    def config(self, emulator: ProviderEmulator, key: str, **overrides: Any) -> Any:
        """The product config for this provider, aimed at ``emulator`` with ``key``."""
        return self.configure(emulator, key, overrides)

    def build(
        self,
        emulator: ProviderEmulator,
        key: str,
        *,
        limiter: RateLimiter | None = None,
        **overrides: Any,
    ) -> RemoteEmbedder:
        """The product's embedder for this provider, aimed at ``emulator``."""
        return self.embedder(self.config(emulator, key, **overrides), limiter=limiter)  # type: ignore[call-arg]


CASES = {
    "cohere": ProviderCase(
        "cohere",
        CohereEmulator,
        CohereEmbedder,
        lambda emu, key, o: CohereEmbedderConfig(api_key=key, base_url=emu.base_url, **o),
    ),
    "voyage": ProviderCase(
        "voyage",
        VoyageEmulator,
        VoyageEmbedder,
        lambda emu, key, o: VoyageEmbedderConfig(api_key=key, base_url=emu.base_url, **o),
    ),
    "vertex": ProviderCase(
        "vertex",
        VertexEmulator,
        VertexEmbedder,
        lambda emu, key, o: VertexEmbedderConfig(
            access_token=key, endpoint=emu.url, project="test-project", **o
        ),
    ),
    "azure-vision": ProviderCase(
        "azure-vision",
        AzureVisionEmulator,
        AzureVisionEmbedder,
        lambda emu, key, o: AzureVisionEmbedderConfig(api_key=key, endpoint=emu.url, **o),
    ),
    "dashscope": ProviderCase(
        "dashscope",
        DashScopeEmulator,
        DashScopeEmbedder,
        lambda emu, key, o: DashScopeEmbedderConfig(api_key=key, base_url=emu.base_url, **o),
    ),
}


def picture(seed: int, size: tuple[int, int] = (64, 48)) -> Image.Image:
    """A small RGB image that differs for every seed."""
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8), "RGB")


def png(image: Image.Image) -> bytes:
    """``image`` encoded as PNG."""
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()
