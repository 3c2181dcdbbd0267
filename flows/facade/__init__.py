"""mmingest: multimodal ingestion and hybrid retrieval for vector databases.

The public facade a RAG app imports::

    from mmingest import Retriever, Settings, eq, between

    retriever = Retriever.from_settings(Settings())
    hits = retriever.search("red running shoes", k=5, filters=eq("kind", "product"))

Everything else lives in the layers below: :mod:`mmingest.schemas` (models, settings, errors),
:mod:`mmingest.connectors` (sources, embedders, stores), :mod:`mmingest.pipelines` (extract,
embed, load, query) and :mod:`mmingest.flows` (the CLI and Prefect flows). Names here are
imported on first use, so ``import mmingest`` stays cheap and needs no optional extra.

(In the repository this package's source is ``flows/facade/``: the top-level folders are mapped
into the ``mmingest`` namespace at packaging time, see ``pyproject.toml``.)
"""

from __future__ import annotations

import importlib
from importlib import metadata
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mmingest.pipelines.query import Retriever, display_uri
    from mmingest.schemas.errors import ConfigError, MissingExtra, MmingestError
    from mmingest.schemas.filters import all_of, any_of, between, either, eq, parse_condition, words
    from mmingest.schemas.query import FusionMethod, Hit, HybridQuery, SearchMode
    from mmingest.schemas.settings import Settings

try:
    __version__ = metadata.version("mmingest")
except metadata.PackageNotFoundError:  # a source checkout that was never installed
    __version__ = "0+unknown"

_EXPORTS = {
    "Retriever": "mmingest.pipelines.query",
    "display_uri": "mmingest.pipelines.query",
    "Settings": "mmingest.schemas.settings",
    "Hit": "mmingest.schemas.query",
    "HybridQuery": "mmingest.schemas.query",
    "SearchMode": "mmingest.schemas.query",
    "FusionMethod": "mmingest.schemas.query",
    "MmingestError": "mmingest.schemas.errors",
    "ConfigError": "mmingest.schemas.errors",
    "MissingExtra": "mmingest.schemas.errors",
    "eq": "mmingest.schemas.filters",
    "any_of": "mmingest.schemas.filters",
    "between": "mmingest.schemas.filters",
    "words": "mmingest.schemas.filters",
    "all_of": "mmingest.schemas.filters",
    "either": "mmingest.schemas.filters",
    "parse_condition": "mmingest.schemas.filters",
}

__all__ = [
    "ConfigError",
    "FusionMethod",
    "Hit",
    "HybridQuery",
    "MissingExtra",
    "MmingestError",
    "Retriever",
    "SearchMode",
    "Settings",
    "__version__",
    "all_of",
    "any_of",
    "between",
    "display_uri",
    "either",
    "eq",
    "parse_condition",
    "words",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mmingest' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
