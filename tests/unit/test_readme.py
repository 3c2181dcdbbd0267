"""The README's configuration reference covers every setting."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from schemas.config import (
    EMBEDDER_CONFIGS,
    EmbeddingCacheConfig,
    IngestConfig,
    QdrantEdgeStoreConfig,
)
from schemas.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def setting_names() -> set[str]:
    sections: dict[str, list[type[BaseModel]]] = {
        "embedder": list(EMBEDDER_CONFIGS),
        "store": [QdrantEdgeStoreConfig],
        "ingest": [IngestConfig],
        "embedding_cache": [EmbeddingCacheConfig],
    }
    names = {name for name in Settings.model_fields if name not in sections}
    for section, models in sections.items():
        for model in models:
            names |= {f"{section}.{field}" for field in model.model_fields}
    return names


def test_every_setting_is_documented():
    text = README.read_text(encoding="utf-8")
    missing = sorted(name for name in setting_names() if f"`{name}`" not in text)
    assert not missing, f"README configuration table lacks: {missing}"


def test_readme_test_command_is_what_ci_runs():
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    command = "ruff check . && ruff format --check . && mypy && pytest"
    assert command in README.read_text(encoding="utf-8")
    assert command in ci
