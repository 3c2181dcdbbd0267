"""Optional dependencies: which extra brings which module, and one way to say it is missing.

Every import of an optional SDK (stores, object storage, PDF, models, providers, Prefect, RAG
frameworks) goes through :func:`needs_extra` or :func:`import_extra`, so a missing one is a
one-line :class:`~mmingest.schemas.errors.MissingExtra` naming the ``pip install`` to run,
never a traceback from deep inside an import.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

from mmingest.schemas.errors import MissingExtra

EXTRAS: dict[str, str] = {
    "qdrant_edge": "qdrant",
    "qdrant_client": "qdrant",
    "weaviate": "weaviate",
    "pymilvus": "milvus",
    "milvus_lite": "milvus",
    "obstore": "s3",
    "pypdfium2": "pdf",
    "torch": "clip",
    "transformers": "clip",
    "safetensors": "clip",
    "onnxruntime": "onnx",
    "onnx": "onnx",
    "openvino": "openvino",
    "nncf": "openvino",
    "cohere": "cohere",
    "voyageai": "voyage",
    "dashscope": "dashscope",
    "google": "vertex",
    "httpx": "vertex",
    "prefect": "flows",
    "prefect_dask": "flows",
    "langchain_core": "langchain",
    "llama_index": "llamaindex",
    "fastapi": "web",
    "starlette": "web",
    "uvicorn": "web",
}
"""The extra (``pip install 'mmingest[EXTRA]'``) that installs each optional top-level module."""


@contextmanager
def needs_extra(what: str, extra: str | None = None) -> Iterator[None]:
    """Turn a missing optional module imported inside the block into :class:`MissingExtra`.

    ``what`` names the feature (``"the weaviate store"``); ``extra`` overrides the extra found
    in :data:`EXTRAS` (e.g. ``httpx`` for Azure Vision is in ``azure-vision``). A missing module
    that is no optional dependency of ours is a bug or a broken install: it propagates as is.
    """
    try:
        yield
    except ModuleNotFoundError as error:
        root = (error.name or "").split(".")[0]
        if root not in EXTRAS:
            raise
        raise MissingExtra(what, extra or EXTRAS[root], root) from error


def import_extra(module: str, what: str, extra: str | None = None) -> ModuleType:
    """``importlib.import_module(module)``, or :class:`MissingExtra` naming the extra."""
    with needs_extra(what, extra):
        return importlib.import_module(module)
