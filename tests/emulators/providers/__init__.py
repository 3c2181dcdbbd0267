"""HTTP emulators of multimodal embedding providers, for testing embedders through real SDKs.

Each emulator is an in-process loopback server speaking one provider's documented request and
response shapes, enforcing its documented limits, and able to inject faults::

    with CohereEmulator(api_key="k") as emu:
        client = cohere.ClientV2(api_key="k", base_url=emu.base_url)
        ...
"""

from __future__ import annotations

from .azure_vision import AzureVisionEmulator
from .base import ProviderEmulator
from .cohere import CohereEmulator
from .dashscope import DashScopeEmulator
from .records import Counters, ProviderError, RecordedRequest, Reply
from .vertex import VertexEmulator
from .voyage import VoyageEmulator

PROVIDERS: dict[str, type[ProviderEmulator]] = {
    "cohere": CohereEmulator,
    "voyage": VoyageEmulator,
    "vertex": VertexEmulator,
    "azure": AzureVisionEmulator,
    "dashscope": DashScopeEmulator,
}

__all__ = [
    "PROVIDERS",
    "AzureVisionEmulator",
    "CohereEmulator",
    "Counters",
    "DashScopeEmulator",
    "ProviderEmulator",
    "ProviderError",
    "RecordedRequest",
    "Reply",
    "VertexEmulator",
    "VoyageEmulator",
]
