"""The web app of ``mmingest serve`` over a Qdrant Edge folder, for :mod:`bench.web`.

``python -m bench.web_server STORE QUERIES PORT``: serves collection ``web`` from the Qdrant
Edge folder ``STORE`` with an embedder that hands back the pre-computed query vectors saved in
``QUERIES`` (``.npz`` with ``texts`` and ``vectors``), on ``127.0.0.1:PORT``, in its own
process, as a deployment runs it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np


def main(store_path: str, queries: str, port: str) -> None:
    """Serve until terminated."""
    import uvicorn

    from bench.query import PrecomputedEmbedder
    from mmingest.connectors.stores.qdrant_edge import QdrantEdgeStore
    from mmingest.flows.web.app import create_app
    from mmingest.flows.web.service import SearchService
    from mmingest.pipelines.query import Retriever
    from mmingest.schemas.config import QdrantEdgeStoreConfig
    from mmingest.schemas.web_config import WebConfig

    saved = np.load(queries)
    embedder = PrecomputedEmbedder(
        dict(zip(saved["texts"].tolist(), saved["vectors"], strict=True))
    )
    store = QdrantEdgeStore(QdrantEdgeStoreConfig(path=Path(store_path)))
    try:
        service = SearchService(Retriever(store, embedder, collection="web"), WebConfig())
        uvicorn.run(
            create_app(service),
            host="127.0.0.1",
            port=int(port),
            log_level="warning",
            access_log=False,
            server_header=False,  # as mmingest serve runs it
        )
    finally:
        store.close()


if __name__ == "__main__":
    main(*sys.argv[1:4])
