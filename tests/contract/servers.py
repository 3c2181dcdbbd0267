"""Real servers for the contract: a backend's ``store`` fixture gains a ``server`` variant when
``MMINGEST_TEST_<BACKEND>_URL`` is set (see deploy/compose.yaml), and none otherwise."""

from __future__ import annotations

import os
from typing import Any

import pytest

PREFIX = "contract"


def server_url(backend: str) -> str | None:
    """The URL of a real server for ``backend`` (QDRANT, MILVUS, WEAVIATE), if given."""
    return os.environ.get(f"MMINGEST_TEST_{backend}_URL") or None


def server_secret(backend: str, name: str) -> str | None:
    """An optional credential for that server, e.g. MMINGEST_TEST_QDRANT_API_KEY."""
    return os.environ.get(f"MMINGEST_TEST_{backend}_{name}") or None


def variants(local: list[str], backend: str) -> list[Any]:
    """Fixture params: the embedded or emulated variants, plus ``server`` when configured."""
    params = [pytest.param(name, id=name) for name in local]
    if server_url(backend):
        params.append(pytest.param("server", id="server", marks=pytest.mark.server))
    return params


def wipe(store: Any) -> None:
    """Remove what contract tests create on a shared server (aliases first, then collections)."""
    for alias in store.list_aliases():
        if alias.lower().startswith(PREFIX):
            store.delete_alias(alias)
    for name in store.list_collections():
        if name.lower().startswith(PREFIX):
            store.drop_collection(name)
