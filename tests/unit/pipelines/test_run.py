"""The run model: a serialisable spec, named units, and the same outcome whether the units
run in one pipelined ingestion or one by one as a scheduler would run them."""

from __future__ import annotations

import pickle

import pytest

from mmingest.flows.parameters import refuse_secrets, secret_paths
from mmingest.pipelines.run import Backends, Kind, RunOptions, RunSpec, execute
from mmingest.pipelines.samples import encode
from mmingest.pipelines.units import Scheduled, run_unit, unit_name
from mmingest.schemas.config import IngestConfig
from mmingest.schemas.errors import ConfigError
from tests.support.corpus import picture, simple_pdf, truncated_jpeg
from tests.support.fakes import HashEmbedder


def _corpus(folder):
    folder.mkdir()
    for index, color in enumerate(["red", "green", "blue", "yellow", "purple"]):
        (folder / f"img-{index}.png").write_bytes(encode(picture(color), "PNG"))
    (folder / "broken.jpg").write_bytes(truncated_jpeg())
    (folder / "doc.pdf").write_bytes(simple_pdf(3))
    (folder / "notes.md").write_text("not an input")
    return folder


def test_a_spec_is_plain_data():
    spec = RunSpec(
        source="s3://bucket/p",
        kinds=(Kind.IMAGES, Kind.PRODUCTS),
        collection="c",
        options=RunOptions(delete=True, only=frozenset({"s3://bucket/p/a.jpg"})),
    )
    assert RunSpec.model_validate_json(spec.model_dump_json()) == spec
    assert pickle.loads(pickle.dumps(spec)) == spec
    assert "secret" not in spec.model_dump_json()
    with pytest.raises(ValueError, match="api_key"):
        RunSpec(source="x", collection="c", api_key="no")  # type: ignore[call-arg]


def test_units_run_anywhere_give_the_outcome_of_one_ingestion(tmp_path):
    from mmingest.connectors.stores.qdrant_edge import QdrantEdgeStore
    from mmingest.schemas.config import QdrantEdgeStoreConfig

    folder = _corpus(tmp_path / "corpus")
    store = QdrantEdgeStore(QdrantEdgeStoreConfig(path=tmp_path / "edge"))
    try:
        backends = Backends(store, HashEmbedder())
        base = {"source": str(folder), "ingest": IngestConfig(batch_size=2)}
        whole = execute(
            RunSpec(**base, collection="whole", options=RunOptions(delete=True)), backends
        )

        spec = RunSpec(**base, collection="units", options=RunOptions(delete=True))
        source, prefix = spec.open(backends.source_config)
        run = Scheduled(spec, source, prefix)
        names = []
        for unit in run.units():
            names.append(unit_name(unit))
            run.add(run_unit(spec, backends, [pickle.loads(pickle.dumps(unit))]))
        report = run.finish(backends)
        source.close()

        counts = ("seen", "written", "new", "unchanged", "ignored", "failed", "deleted")
        assert [getattr(report.summary, c) for c in counts] == [
            getattr(whole.summary, c) for c in counts
        ]
        assert report.summary.images_lost == whole.summary.images_lost
        assert (whole.summary.written, whole.summary.failed) == (8, 1)  # 5 images, 3 pages
        ids = {name: sorted(p.id for p in store.scan(name)) for name in ("whole", "units")}
        assert ids["whole"] == ids["units"] and len(ids["units"]) == 8
        assert "pdf doc.pdf" in names and "images broken.jpg..img-0.png (2)" in names
    finally:
        store.close()


def test_secret_settings_are_refused_by_name_only():
    assert {"embedder.api_key", "store.api_key", "source.s3.secret_access_key"} <= secret_paths()
    refuse_secrets({"ingest": {"batch_size": 3}, "embedder": {"api_key": None}})
    with pytest.raises(ConfigError, match=r"embedder\.api_key") as refused:
        refuse_secrets({"embedder": {"kind": "cohere", "api_key": "sk-live-123"}})
    assert "sk-live-123" not in str(refused.value)
