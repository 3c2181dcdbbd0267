"""Titles and descriptions that are not strings: numbers become their text, values a catalog
writes for "missing" (NaN, infinities) are missing, anything else fails its record by name."""

from __future__ import annotations

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
