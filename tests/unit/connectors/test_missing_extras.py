"""A missing optional dependency is one line naming the extra, for every store, source, PDF,
model, provider, Prefect and framework import (one mechanism: mmingest.connectors.extras)."""

from __future__ import annotations

import importlib
import sys
import tomllib
from pathlib import Path

import pytest

from mmingest.connectors.extras import EXTRAS, import_extra, needs_extra
from mmingest.connectors.sources import open_source
from mmingest.connectors.stores import build_store
from mmingest.flows.cli import main
from mmingest.schemas.config import (
    MilvusStoreConfig,
    QdrantEdgeStoreConfig,
    QdrantStoreConfig,
    WeaviateStoreConfig,
)
from mmingest.schemas.errors import ConfigError, MissingExtra


def _without(monkeypatch: pytest.MonkeyPatch, *modules: str) -> None:
    """Make ``modules`` (and the mmingest modules that imported them) unimportable."""
    for name in list(sys.modules):
        if name.split(".")[0] in modules or name.startswith(
            ("mmingest.connectors.stores.", "mmingest.pipelines.integrations.")
        ):
            monkeypatch.delitem(sys.modules, name)
    for module in modules:
        monkeypatch.setitem(sys.modules, module, None)  # import raises ModuleNotFoundError


@pytest.mark.parametrize(
    ("config", "module", "extra"),
    [
        (QdrantEdgeStoreConfig(path="edge"), "qdrant_edge", "qdrant"),
        (QdrantStoreConfig(url="http://localhost:6333"), "qdrant_client", "qdrant"),
        (MilvusStoreConfig(uri="m.db"), "pymilvus", "milvus"),
        (WeaviateStoreConfig(), "weaviate", "weaviate"),
    ],
)
def test_every_store(monkeypatch, config, module, extra):
    _without(monkeypatch, module)
    with pytest.raises(MissingExtra) as raised:
        build_store(config)
    message = str(raised.value)
    assert message.endswith(f"pip install 'mmingest[{extra}]'") and "\n" not in message
    assert f"the {config.kind} store" in message
    assert isinstance(raised.value, ConfigError) and isinstance(raised.value, ImportError)


def test_object_storage_pdf_models_and_providers(monkeypatch):
    _without(monkeypatch, "obstore", "pypdfium2", "torch", "cohere")
    with pytest.raises(MissingExtra, match=r"s3:// source .*'mmingest\[s3\]'"):
        open_source("s3://bucket/prefix")
    from mmingest.pipelines.extract.pdfs import _import_pdfium

    with pytest.raises(MissingExtra, match=r"PDF ingestion .*'mmingest\[pdf\]'"):
        _import_pdfium()
    from mmingest.connectors.embedders.clip.embedder import _import_torch

    with pytest.raises(MissingExtra, match=r"clip embedder .*'mmingest\[clip\]'"):
        _import_torch()
    from mmingest.connectors.embedders.cohere.embedder import _import_cohere

    with pytest.raises(MissingExtra, match=r"cohere embedder .*'mmingest\[cohere\]'"):
        _import_cohere()


@pytest.mark.parametrize(
    ("module", "blocked", "extra"),
    [
        ("mmingest.pipelines.integrations.langchain", "langchain_core", "langchain"),
        ("mmingest.pipelines.integrations.llamaindex", "llama_index", "llamaindex"),
        ("mmingest.flows.prefect_flows", "prefect", "flows"),
    ],
)
def test_frameworks_and_prefect(monkeypatch, module, blocked, extra):
    _without(monkeypatch, blocked)
    monkeypatch.delitem(sys.modules, module, raising=False)
    with (
        pytest.raises(MissingExtra, match=rf"pip install 'mmingest\[{extra}\]'"),
        needs_extra("this"),
    ):
        importlib.import_module(module)


def test_the_integrations_raise_it_themselves(monkeypatch):
    _without(monkeypatch, "langchain_core")
    with pytest.raises(MissingExtra, match=r"LangChain retriever needs 'langchain_core"):
        importlib.import_module("mmingest.pipelines.integrations.langchain")
    # An app guarding the optional import with ``except ImportError`` keeps working.
    with pytest.raises(ImportError, match=r"mmingest\[langchain\]"):
        importlib.import_module("mmingest.pipelines.integrations.langchain")


def test_only_our_optional_modules_are_translated():
    with pytest.raises(ModuleNotFoundError), needs_extra("x"):
        importlib.import_module("surely_not_a_module_here")
    assert import_extra("json", "x").dumps([]) == "[]"
    pyproject = Path(__file__).resolve().parents[3] / "pyproject.toml"
    declared = tomllib.loads(pyproject.read_text())["project"]["optional-dependencies"]
    assert set(EXTRAS.values()) <= set(declared)  # every message names a real extra


def test_the_cli_prints_one_line(monkeypatch, capsys, tmp_path):
    _without(monkeypatch, "weaviate")
    monkeypatch.setenv("MMINGEST_STORE__KIND", "weaviate")
    with pytest.raises(SystemExit) as exited:
        main(["verify", str(tmp_path)])
    assert exited.value.code == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [
        "mmingest: error: the weaviate store needs 'weaviate' (not installed): "
        "pip install 'mmingest[weaviate]'"
    ]


def test_serve_without_the_web_extra_prints_one_line(monkeypatch, capsys):
    _without(monkeypatch, "uvicorn")
    monkeypatch.delitem(sys.modules, "mmingest.flows.web.app", raising=False)
    with pytest.raises(SystemExit) as exited:
        main(["serve"])
    assert exited.value.code == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [
        "mmingest: error: mmingest serve needs 'uvicorn' (not installed): "
        "pip install 'mmingest[web]'"
    ]
