"""Runs pace the cyclic collector and leave none of their own work to it."""

from __future__ import annotations

import gc
import threading

import numpy as np
import pytest

from mmingest.pipelines import collector
from mmingest.pipelines.collector import RUN_THRESHOLD, paced_collector
from mmingest.pipelines.embed import embed_isolating
from mmingest.schemas.errors import InvalidInput


@pytest.fixture
def default_threshold():
    saved = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*saved)


def test_the_threshold_is_raised_for_the_run_and_put_back(default_threshold):
    with paced_collector():
        assert gc.get_threshold() == (RUN_THRESHOLD, 10, 10)
        with paced_collector():  # a second, concurrent run
            assert gc.get_threshold()[0] == RUN_THRESHOLD
        assert gc.get_threshold()[0] == RUN_THRESHOLD  # the first is still going
    assert gc.get_threshold() == (700, 10, 10)


def test_concurrent_runs_put_it_back_once_the_last_ends(default_threshold):
    inside = threading.Barrier(4)
    leave = threading.Event()

    def run() -> None:
        with paced_collector():
            inside.wait()
            leave.wait()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    inside.wait()
    assert gc.get_threshold()[0] == RUN_THRESHOLD
    leave.set()
    for thread in threads:
        thread.join()
    assert gc.get_threshold() == (700, 10, 10) and collector._runs == 0


def test_a_higher_or_disabled_threshold_and_later_changes_are_left_alone(default_threshold):
    gc.set_threshold(50_000, 10, 10)
    with paced_collector():
        assert gc.get_threshold()[0] == 50_000
    gc.set_threshold(0)
    with paced_collector():
        assert gc.get_threshold()[0] == 0
    gc.set_threshold(700, 10, 10)
    with paced_collector():
        gc.set_threshold(1000, 5, 5)  # the application's own choice, made during the run
    assert gc.get_threshold() == (1000, 5, 5)


def test_embedding_leaves_no_reference_cycle_holding_its_vectors():
    """The collector runs rarely during a run: what a batch allocated must go by refcount."""
    import weakref

    made: list[weakref.ref[np.ndarray]] = []

    class Vectors(np.ndarray):
        pass

    def embed(batch: list[str]) -> np.ndarray:
        if "bad" in batch and len(batch) > 1:
            raise InvalidInput("one of these")  # split in halves down to the bad input
        if batch == ["bad"]:
            raise InvalidInput("bad input")
        matrix = np.ones((len(batch), 4), np.float32).view(Vectors)
        made.append(weakref.ref(matrix))
        return matrix

    enabled = gc.isenabled()
    gc.disable()
    try:
        outcome = embed_isolating(embed, ["a", "bad", "c", "d"], batch_size=4, what="texts")
        assert list(outcome.errors) == [1]
        del outcome
        assert made and all(ref() is None for ref in made)
    finally:
        if enabled:
            gc.enable()


def test_an_ingestion_leaves_nothing_of_its_batches_to_the_cyclic_collector(tmp_path, image_folder):
    """Whole runs (images with captions, product catalogs): every vector, point and batch they
    made is freed by refcount, so a paced collector costs no memory."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from mmingest.connectors.sources.local import LocalFolderSource
    from mmingest.pipelines.ingest import ingest_images, ingest_products
    from mmingest.schemas.config import IngestConfig
    from tests.support.fakes import CountingStore

    catalog = tmp_path / "catalog"
    catalog.mkdir()
    pq.write_table(
        pa.table(
            {
                "id": [f"sku-{i}" for i in range(300)] + ["sku-1"],  # one duplicate id
                "title": [f"Shoe {i}" for i in range(301)],
                "description": ["Red"] * 301,
                "image": [None] * 301,
            }
        ),
        catalog / "products.parquet",
    )
    folder, _ = image_folder
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        _leave_foreign_garbage()
        config = IngestConfig(batch_size=64)
        products = ingest_products(
            LocalFolderSource(catalog),
            _MarkedEmbedder(),
            CountingStore(),
            collection="c",
            config=config,
        )
        images = ingest_images(
            LocalFolderSource(folder),
            _MarkedEmbedder(),
            CountingStore(),
            collection="c",
            config=config,
        )
        assert (products.written, products.failed, images.written) == (300, 1, 12)
        gc.collect()
        left = [item for item in gc.garbage if _made_by_a_run(item)]
        assert left == []
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if enabled:
            gc.enable()


class _RunVectors(np.ndarray):
    """The runs' vectors, told apart from arrays other threads of the test process leave."""


class _MarkedEmbedder:
    """A hash embedder whose vectors (and every view or result computed from them) are
    :class:`_RunVectors`."""

    def __init__(self) -> None:
        from tests.support.fakes import HashEmbedder

        self._inner = HashEmbedder()

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    def embed_texts(self, texts, **kwargs):  # type: ignore[no-untyped-def]
        return self._inner.embed_texts(texts, **kwargs).view(_RunVectors)

    def embed_images(self, images):  # type: ignore[no-untyped-def]
        return self._inner.embed_images(images).view(_RunVectors)


def _made_by_a_run(item: object) -> bool:
    """Whether a piece of cyclic garbage is a run's: its vectors, an object of ours, or one of
    the pipeline's functions. Other libraries' garbage is theirs (and may name no module)."""
    if isinstance(item, _RunVectors):
        return True
    kind = getattr(type(item), "__module__", None)
    owner = getattr(item, "__module__", None)
    return (isinstance(kind, str) and kind.startswith("mmingest")) or (
        isinstance(owner, str) and owner.startswith("mmingest.pipelines")
    )


def _leave_foreign_garbage() -> None:
    """Cyclic garbage of another library, as other tests' threads leave it in CI: a class of no
    module, and a function of a module named None."""
    nameless = type("Nameless", (), {"__module__": None})
    cycle = [nameless, np.zeros(4)]  # an array that is not a run's
    cycle.append(cycle)

    def orphan() -> None: ...

    orphan.__module__ = None  # type: ignore[assignment]
    loop = [orphan]
    loop.append(loop)
