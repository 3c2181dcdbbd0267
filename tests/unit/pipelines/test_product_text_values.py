"""Titles and descriptions that are not strings: numbers become their text, values a catalog
writes for "missing" (NaN, infinities) are missing, anything else fails its record by name."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math

import numpy as np
import pytest

from mmingest.pipelines.extract.products import RecordError, record_asset
from mmingest.schemas.config import CatalogConfig


def _asset(title, description="Solid brass"):
    values = {"id": "sku-1", "title": title, "description": description, "image": None}
    return record_asset(values, "file:///catalog.parquet", CatalogConfig(), 200)


@pytest.mark.parametrize(
    "missing", [math.nan, math.inf, -math.inf, np.float32("nan"), np.float64("inf")]
)
def test_a_non_finite_title_is_a_missing_title(missing):
    asset = _asset(missing)
    assert asset.title is None and asset.caption == "Solid brass"


def test_a_non_finite_description_is_a_missing_description():
    asset = _asset("Nozzle", description=math.nan)
    assert asset.caption == "Nozzle"


@pytest.mark.parametrize(("value", "text"), [(3.5, "3.5"), (42, "42"), (True, "True")])
def test_numbers_and_booleans_become_their_text(value, text):
    assert _asset(value).title == text


@pytest.mark.parametrize(("value", "kind"), [({"a": 1}, "dict"), ([1, 2], "list")])
def test_other_values_fail_the_record_naming_what_they_hold(value, kind):
    with pytest.raises(RecordError, match=f"the title column holds {kind}, not text"):
        _asset(value)


def test_numpy_values_are_their_python_values():
    from mmingest.pipelines.extract.catalogs import json_safe

    assert _asset(np.float32(3.5)).title == "3.5"
    assert json_safe({"n": np.int64(7), "v": np.array([1.5, np.nan]), "b": np.bool_(True)}) == {
        "n": 7,
        "v": [1.5, None],
        "b": True,
    }


def test_numpy_dates_stay_readable_dates():
    from mmingest.pipelines.extract.catalogs import json_safe

    assert json_safe(np.datetime64("2026-12-07T10:30:00.123456789")) == (
        "2026-12-07T10:30:00.123456789"
    )
    assert json_safe(np.datetime64("2026-12-07")) == "2026-12-07"
    assert json_safe(np.datetime64("NaT")) is None
    assert json_safe(np.timedelta64(5, "s")) == "5 seconds"


@pytest.mark.parametrize(
    "value",
    [
        decimal.Decimal("NaN"),
        decimal.Decimal("sNaN"),
        decimal.Decimal("-Infinity"),
        decimal.Decimal("1e400"),  # beyond a float
        np.float16("inf"),
        np.longdouble("1e4000"),  # numpy's own type, even from .item()
        [np.longdouble("nan")],
    ],
)
def test_every_non_finite_number_is_missing(value):
    from mmingest.pipelines.extract.catalogs import json_safe

    safe = json_safe(value)
    assert safe in (None, [None])
    json.dumps(safe, allow_nan=False)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (dt.timedelta(seconds=3), "0:00:03"),  # a Parquet duration column
        (np.complex128(1 + 2j), "(1+2j)"),
        (np.clongdouble(1 + 2j), "(1+2j)"),
        (np.array([dt.timedelta(days=1)], dtype=object), ["1 day, 0:00:00"]),
    ],
)
def test_values_json_has_no_type_for_become_their_text(value, text):
    from mmingest.pipelines.extract.catalogs import json_safe

    assert json_safe(value) == text
    assert json_safe({"nested": [value]}) == {"nested": [text]}


def test_a_catalog_of_every_arrow_scalar_type_lands_in_the_store(tmp_path):
    """Whatever pyarrow hands back for a Parquet column becomes a payload every store takes."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from mmingest.connectors.sources.local import LocalFolderSource
    from mmingest.connectors.stores.qdrant_edge import QdrantEdgeStore
    from mmingest.pipelines.ingest import ingest_products
    from mmingest.schemas.config import QdrantEdgeStoreConfig
    from tests.support.fakes import HashEmbedder

    catalog = tmp_path / "catalog"
    catalog.mkdir()
    columns = {
        "id": pa.array(["a", "b"]),
        "title": pa.array([None, "Hose"]),
        "description": pa.array(["Nozzle", None]),
        "image": pa.array([None, None], pa.string()),
        "took": pa.array([dt.timedelta(seconds=3), None], pa.duration("s")),
        "price": pa.array([decimal.Decimal("2.50"), None], pa.decimal128(5, 2)),
        "half": pa.array([np.float16(1.5), np.float16("inf")], pa.float16()),
        "at": pa.array([dt.time(10, 30), None], pa.time64("us")),
        "when": pa.array(
            [dt.datetime(2026, 12, 7, tzinfo=dt.UTC), None], pa.timestamp("ns", "UTC")
        ),
        "raw": pa.array([b"\xff\x00", b"ok"], pa.binary()),
        "tags": pa.array([["x"], []], pa.list_(pa.string())),
        "dims": pa.array(
            [{"w": 1.0, "h": math.nan}, None], pa.struct([("w", pa.float64()), ("h", pa.float64())])
        ),
    }
    pq.write_table(pa.table(columns), catalog / "products.parquet")
    store = QdrantEdgeStore(QdrantEdgeStoreConfig(path=tmp_path / "store"))
    try:
        summary = ingest_products(LocalFolderSource(catalog), HashEmbedder(), store, collection="c")
        assert (summary.written, summary.failed) == (2, 0), summary.failures
        fields = {p.id: p.payload["fields"] for p in _points(store)}
    finally:
        store.close()
    first = next(f for f in fields.values() if f["id"] == "a")
    assert first["took"] == "0:00:03" and first["price"] == 2.5 and first["half"] == 1.5
    assert first["dims"] == {"w": 1.0, "h": None} and first["raw"] == "/wA="
    json.dumps(list(fields.values()), allow_nan=False)


def _points(store):
    from mmingest.schemas.query import HybridQuery

    return store.query("c", HybridQuery(keyword_text="nozzle hose", k=10))
