"""Provider emulators started per test, and the product's embedders pointed at them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mmingest.connectors.embedders.remote import RemoteEmbedder
from mmingest.pipelines.retry import RetryPolicy
from tests.emulators.providers import ProviderEmulator
from tests.support.providers import CASES, ProviderCase

KEY = "test-key-0123"
FAST = RetryPolicy(attempts=3, base_delay_s=0.005, max_delay_s=0.01)
"""Retries without waiting (Retry-After still holds the client's rate limiter)."""

MODERATED = "poison"
"""Texts containing this word are refused by the emulators below, as a moderation filter."""


def refusing(emulator: type[ProviderEmulator]) -> type[ProviderEmulator]:
    """``emulator`` refusing (400) any request that contains :data:`MODERATED`.

    Stands in for what no limit check can foresee: a provider's content filter rejecting one
    input of a batch (DashScope's DataInspectionFailed, for one).
    """

    class Refusing(emulator):  # type: ignore[valid-type,misc]
        def _process(self, request: Any, fault: Any) -> Any:
            if fault is None and MODERATED.encode() in request.raw:
                self.authenticate(request)
                raise self.error(400, "input refused by content moderation", "DataInspectionFailed")
            return super()._process(request, fault)

    Refusing.__name__ = f"Refusing{emulator.__name__}"
    return Refusing


@pytest.fixture(params=sorted(CASES))
def case(request: pytest.FixtureRequest) -> ProviderCase:
    """Each provider in turn."""
    return CASES[request.param]


@pytest.fixture
def emulator(case: ProviderCase) -> Iterator[ProviderEmulator]:
    """The provider's emulator, expecting :data:`KEY`."""
    with refusing(case.emulator)(api_key=KEY) as running:
        yield running


@pytest.fixture
def embedder(case: ProviderCase, emulator: ProviderEmulator) -> Iterator[RemoteEmbedder]:
    """The product's embedder for the provider, aimed at its emulator."""
    built = case.build(emulator, KEY)
    yield built
    built.close()
