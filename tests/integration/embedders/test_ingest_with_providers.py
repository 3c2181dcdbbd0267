"""Providers inside the pipeline and the CLI: billed units, queries, concurrency, the cache."""

from __future__ import annotations

import json
import shutil

import pytest

from mmingest.connectors.sources.local import LocalFolderSource
from mmingest.flows.cli import main
from mmingest.pipelines.embed import embed_isolating
from mmingest.pipelines.ingest import ingest_images
from mmingest.pipelines.query import Retriever
from mmingest.pipelines.samples import write_images
from mmingest.schemas.config import IngestConfig
from mmingest.schemas.embedding import InputKind
from tests.emulators.providers import CohereEmulator
from tests.integration.embedders.conftest import FAST, KEY
from tests.support.providers import CASES

pytestmark = pytest.mark.timeout(60)


def test_ingest_reports_billed_units_and_a_query_finds_the_caption(tmp_path, edge_store):
    folder = tmp_path / "images"
    captions = write_images(folder, 8)
    with CohereEmulator(api_key=KEY) as emulator:
        embedder = CASES["cohere"].build(emulator, KEY, dimension=256)
        summary = ingest_images(
            LocalFolderSource(folder),
            embedder,
            edge_store,
            collection="photos",
            config=IngestConfig(batch_size=3),
        )
        assert (summary.written, summary.failed) == (8, 0)
        counters = emulator.counters
        assert summary.billed_units == counters.billed_units
        assert set(summary.billed_units) == {"input_tokens", "image_tokens"}
        assert summary.provider_requests == counters.requests_served == 6  # 3 batches x 2
        name, caption = sorted(captions.items())[0]
        hits = Retriever(edge_store, embedder, collection="photos").search(
            caption, k=3, mode="dense", vectors=["caption"]
        )
        assert hits[0].source_uri == (folder / name).resolve().as_uri()
        assert emulator.requests[-1].body["input_type"] == "search_query"
        embedder.close()


def test_one_input_providers_send_their_requests_concurrently():
    case = CASES["vertex"]
    with case.emulator(api_key=KEY) as emulator:
        embedder = case.build(emulator, KEY, concurrency=4)
        emulator.delay_next(8, seconds=0.5)
        outcome = embed_isolating(
            lambda batch: embedder.embed_texts(batch, kind=InputKind.DOCUMENT),
            [f"text {i}" for i in range(8)],
            batch_size=embedder.info.limits.max_batch,
            what="texts",
            policy=FAST,
            concurrency=embedder.info.limits.max_concurrency,
        )
        embedder.close()
        in_flight = emulator.counters.max_in_flight
    assert not outcome.errors
    # Observed by the server, not by a clock (a loaded machine stretches wall time): every
    # delayed request was held while others arrived, and never more than the limit at once.
    assert in_flight == 4


def _cli(capsys, *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    return int(exited.value.code or 0), capsys.readouterr().out


def test_cli_shows_provider_usage_and_a_rerun_after_a_wipe_is_free(capsys, monkeypatch, tmp_path):
    folder = tmp_path / "images"
    write_images(folder, 6)
    state = tmp_path / "state"
    with CohereEmulator(api_key=KEY) as emulator:
        monkeypatch.setenv("MMINGEST_EMBEDDER__KIND", "cohere")
        monkeypatch.setenv("MMINGEST_EMBEDDER__BASE_URL", emulator.base_url)
        monkeypatch.setenv("MMINGEST_EMBEDDER__DIMENSION", "256")
        monkeypatch.setenv("CO_API_KEY", KEY)
        monkeypatch.setenv("MMINGEST_STATE_DIR", str(state))
        code, out = _cli(capsys, "ingest", str(folder), "--json")
        first = json.loads(out)
        assert code == 0 and first["written"] == 6
        assert first["billed_units"] == emulator.counters.billed_units
        assert (first["cache_hits"], first["cache_misses"]) == (0, 12)
        assert first["provider_requests"] == 2
        sent = emulator.counters.requests_received

        shutil.rmtree(state / "qdrant-edge")  # the store is wiped; the cache is not
        code, out = _cli(capsys, "ingest", str(folder), "--no-progress")
        assert code == 0
        assert "0 requests" in out and "12 hits, 0 misses" in out
        assert emulator.counters.requests_received == sent

        monkeypatch.setenv("MMINGEST_EMBEDDING_CACHE__ENABLED", "false")
        shutil.rmtree(state / "qdrant-edge")
        code, out = _cli(capsys, "ingest", str(folder), "--json")
        assert json.loads(out)["provider_requests"] == 2
        assert emulator.counters.requests_received == sent + 2
