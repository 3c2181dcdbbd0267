"""Each shortcut on the ingest hot path gives exactly what the plain way gives."""

from __future__ import annotations

import datetime as dt
import json
import re

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from mmingest.pipelines.extract import catalogs
from mmingest.pipelines.extract.catalogs import Row, json_safe
from mmingest.pipelines.extract.products import _canonical_json
from mmingest.pipelines.text import _CRLF, _UNSAFE_CHARACTERS, normalise_text

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES, st.sampled_from([b"\xff bytes", dt.date(2024, 2, 29), None]))
def test_canonical_json_is_json_dumps_with_sorted_keys(value, odd):
    for candidate in (value, [value, odd], {"z": odd, "a": [value]}):
        assert _canonical_json(candidate) == json.dumps(candidate, sort_keys=True, default=str)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8")) | st.text(alphabet="ab \t\r\n\x1b\x7f\x85"))
def test_normalise_text_shortcut_changes_nothing(text):
    assert normalise_text(text) == _UNSAFE_CHARACTERS.sub("", _CRLF.sub("\n", text))


@given(JSON_SCALARS)
def test_json_safe_passes_plain_values_through(value):
    if isinstance(value, float):
        expected = value if value == value and abs(value) != float("inf") else None
        assert json_safe(value) == expected or json_safe(value) is expected
    else:
        assert json_safe(value) is value


def _rows(batch: pa.RecordBatch, marked: bool = False) -> list[Row]:
    return list(catalogs._decoded(batch, iter(range(1, 10**6)), marked=marked))


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.text(), min_size=1, max_size=30),
    st.data(),
)
def test_readable_columns_decode_like_the_per_value_path(texts, data):
    """A batch whose text is all UTF-8 takes the whole-column path; one bad value sends the
    batch through the per-value path, where every other row must come out the same."""
    numbers = [float(i) for i in range(len(texts))]
    clean = pa.record_batch({"title": pa.array(texts, pa.string()), "price": numbers})
    fast = _rows(clean)
    assert fast == [
        Row(i + 1, values={"title": text, "price": number})
        for i, (text, number) in enumerate(zip(texts, numbers, strict=True))
    ]
    bad = data.draw(st.integers(0, len(texts) - 1))
    raw = [text.encode() for text in texts]
    raw[bad] = b"\xff" + raw[bad]
    broken_column = pa.array(raw, pa.binary()).view(pa.string())
    slow = _rows(pa.record_batch({"title": broken_column, "price": numbers}))
    assert slow[bad].values is None and "not UTF-8" in (slow[bad].error or "")
    assert [row for i, row in enumerate(slow) if i != bad] == [
        row for i, row in enumerate(fast) if i != bad
    ]


def test_marked_csv_text_takes_the_per_value_path_only_when_marked():
    mark = catalogs._NOT_UTF8
    clean = pa.record_batch({"id": ["a", "b"]})
    assert _rows(clean, marked=True) == [Row(1, values={"id": "a"}), Row(2, values={"id": "b"})]
    marked = pa.record_batch({"id": ["a", f"b{mark}"]})
    rows = _rows(marked, marked=True)
    assert rows[0] == Row(1, values={"id": "a"})
    assert rows[1].values is None and re.search(r"not UTF-8 \(at 1\)", rows[1].error or "")


def _plain_product(values: dict, max_chars: int):
    """The product record mapping written the plain way (the oracle for the fast one)."""
    import hashlib

    from mmingest.pipelines.captions import clean_caption, truncation_warning
    from mmingest.pipelines.extract.products import EXTRACTION_VERSION, _text
    from mmingest.pipelines.text import normalise_value

    key = normalise_text(str(json_safe(values["id"]))).strip()
    title, description = _text(values.get("title"), "t"), _text(values.get("description"), "d")
    mapped = {"id", "title", "description", "image"}
    fields = {
        normalise_text(name): normalise_value(json_safe(value))
        for name, value in values.items()
        if name not in mapped
    }
    fields["id"], fields["images"] = key, []
    text = ". ".join(part.strip() for part in (title, description) if part and part.strip())
    fingerprint = json.dumps(
        [EXTRACTION_VERSION, key, title, description, fields], sort_keys=True, default=str
    )
    raw = ". ".join(
        part.strip()
        for part in (values.get("title"), values.get("description"))
        if isinstance(part, str) and part.strip()
    )
    return (
        key,
        hashlib.sha256(fingerprint.encode()).hexdigest()[:32],
        clean_caption(text, max_chars=max_chars),
        clean_caption(title, max_chars=1000),
        fields,
        truncation_warning(raw, max_chars=max_chars) is not None,
    )


FIELD_VALUES = JSON_VALUES | st.dates() | st.binary(max_size=8) | st.decimals(allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(
    st.text(min_size=1).filter(lambda key: key.strip() not in ("", "None")) | st.integers(),
    st.none() | st.text() | st.integers(),
    st.none() | st.text(alphabet="ab \t\n\x1b\u202e.", max_size=60),
    st.dictionaries(st.text(max_size=6), FIELD_VALUES, max_size=4),
)
def test_product_records_map_like_the_plain_way(key, title, description, extra):
    from mmingest.pipelines.extract.products import RecordError, product_record
    from mmingest.schemas.config import CatalogConfig

    values = {**extra, "id": key, "title": title, "description": description}
    if not normalise_text(str(key)).strip() or normalise_text(str(key)).strip() == "None":
        return
    try:
        asset, cut = product_record(values, "s3://b/c.parquet", CatalogConfig(), 40)
    except RecordError:
        return
    mapped = (asset.part, asset.content_hash, asset.caption, asset.title, asset.fields)
    expected = _plain_product(values, 40)
    assert mapped == expected[:5]
    if isinstance(title, str):  # the warning is about the text the caption is cut from
        assert (cut is not None) == expected[5]


def test_product_content_hashes_do_not_change_between_releases():
    """A changed hash re-embeds every stored product on the next run: only on purpose (bump
    ``EXTRACTION_VERSION``), never as a side effect of making the mapping faster."""
    from mmingest.pipelines.extract.products import record_asset
    from mmingest.schemas.config import CatalogConfig

    values = {"id": "sku-1", "title": "Shoe", "description": "Red", "price": 3.5, "n": None}
    asset = record_asset(values, "s3://b/c.parquet", CatalogConfig(), 2000)
    assert asset.content_hash == _plain_product(values, 2000)[1]
    assert asset.content_hash == GOLDEN_HASH


GOLDEN_HASH = "a86d6f33d1c3177a89104256beb4df07"  # as 0.1.0 computed it
