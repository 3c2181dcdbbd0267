"""Shared lookup for the per-role registries (plain dicts keyed by a lowercase ``kind``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from mmingest.connectors.extras import needs_extra
from mmingest.schemas.errors import ConfigError

T = TypeVar("T")


def build(registry: Mapping[str, Callable[[Any], T]], config: Any, role: str) -> T:
    """Build the ``role`` backend named by ``config.kind`` from ``registry``."""
    factory = registry.get(config.kind)
    if factory is None:
        known = ", ".join(sorted(registry))
        raise ConfigError(f"unknown {role} kind {config.kind!r}; known kinds: {known}")
    # Backends import their SDK when built: a missing one is a one-line MissingExtra.
    with needs_extra(f"the {config.kind} {role}"):
        return factory(config)
