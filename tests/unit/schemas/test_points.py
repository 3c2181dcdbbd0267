import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from mmingest.schemas import Asset, AssetKind, Point, point_id
from mmingest.schemas.points import POINT_NAMESPACE


def test_point_id_is_deterministic_and_depends_on_uri_and_part():
    first = point_id("s3://bucket/a.pdf", "3")
    assert first == point_id("s3://bucket/a.pdf", "3")
    assert first != point_id("s3://bucket/a.pdf", "4")
    assert first != point_id("s3://bucket/b.pdf", "3")
    assert point_id("file:///x.jpg") == point_id("file:///x.jpg", "")


def test_point_id_namespace_is_frozen():
    # Changing the namespace would orphan every stored point.
    assert str(POINT_NAMESPACE) == "5c8f1b9e-4a57-5d5e-9a0c-6d9a3b1e2f70"
    assert point_id("file:///x.jpg") == "a8a6a128-b2b7-54fd-bdbc-c9ec3a7483c1"


def test_asset_id_is_the_point_id():
    asset = Asset(kind=AssetKind.PDF_PAGE, source_uri="s3://b/doc.pdf", part="2", content_hash="h")
    assert asset.id == point_id("s3://b/doc.pdf", "2")


def test_point_vectors_become_float32_arrays():
    point = Point(id="i", vectors={"image": [1, 2, 3]}, payload={"content_hash": "h"})
    assert point.vectors["image"].dtype == np.float32
    assert point.content_hash == "h"


@pytest.mark.parametrize("bad", [[], [[1.0, 2.0]]])
def test_point_rejects_empty_or_nested_vectors(bad):
    with pytest.raises(ValidationError, match="non-empty 1-d"):
        Point(id="i", vectors={"image": bad}, payload={})


def test_point_ids_are_the_standard_uuid5():
    import uuid

    from mmingest.schemas.points import POINT_NAMESPACE, point_id, scoped_id

    names = ["", "s3://b/k.jpg", "file:///tmp/é ü/x.png", "memory://x/\n../y", "a" * 5000]
    for name in names:
        for part in ("", "1", "sku-42"):
            expected = str(uuid.uuid5(POINT_NAMESPACE, f"{name}#{part}"))
            assert point_id(name, part) == expected
            assert scoped_id(expected, "acme") == str(uuid.uuid5(uuid.UUID(expected), "acme"))
    assert scoped_id(point_id("x"), None) == point_id("x")


def test_point_of_builds_what_validation_builds_and_validates_anything_else():
    vector = np.arange(1, 4, dtype=np.float32)
    payload = {"content_hash": "h", "page": None}
    fast = Point.of("i", {"image": vector}, "a caption", payload)
    assert fast == Point(
        id="i", vectors={"image": vector}, keyword_text="a caption", payload=payload
    )
    assert fast.vectors["image"] is vector and fast.image_data is None
    with pytest.raises(ValidationError):  # frozen like any point
        fast.id = "j"  # type: ignore[misc]
    # Inputs validation would change or refuse still go through it.
    converted = Point.of("i", {"image": [1, 2, 3]}, None, payload)  # type: ignore[dict-item]
    assert converted.vectors["image"].dtype == np.float32
    # Float32 in the other byte order, float64, a float32 subclass: native float32 arrays.
    for other in (vector.astype(">f4"), vector.astype(np.float64), vector.view(np.memmap)):
        native = Point.of("i", {"image": other}, None, payload).vectors["image"]
        assert type(native) is np.ndarray and native.dtype == np.dtype("=f4")
        assert native.tolist() == [1.0, 2.0, 3.0]
    for bad in ({"image": np.zeros((2, 2), np.float32)}, {"image": np.array([], np.float32)}):
        with pytest.raises(ValidationError):
            Point.of("i", bad, None, payload)
    with pytest.raises(ValidationError):
        Point.of(7, {"image": vector}, None, payload)  # type: ignore[arg-type]


@settings(max_examples=500, deadline=None)
@given(st.text(), st.text(max_size=8))
def test_point_ids_are_the_standard_uuid5_for_any_name(name, part):
    import uuid

    assert point_id(name, part) == str(uuid.uuid5(POINT_NAMESPACE, f"{name}#{part}"))
