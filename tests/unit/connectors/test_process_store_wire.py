"""What crosses the pipe to a store in its own process: points as columns, and every error."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmingest.connectors.stores.process import _portable, pack_points, unpack_points
from mmingest.schemas import errors
from mmingest.schemas.points import CAPTION, IMAGE, Point

_finite = st.floats(width=32, allow_nan=False, allow_infinity=False)
_vector = st.lists(_finite, min_size=3, max_size=3).map(lambda v: np.array(v, dtype=np.float32))
_point = st.builds(
    lambda index, vectors, text, image, value: Point(
        id=f"id-{index}",
        vectors=vectors,
        keyword_text=text,
        payload={"source_uri": f"memory://{index}", "value": value},
        image_data=image,
    ),
    st.integers(0, 10**6),
    st.dictionaries(st.sampled_from([IMAGE, CAPTION]), _vector),
    st.none() | st.text(),
    st.none() | st.binary(max_size=16),
    st.none() | st.integers() | st.text() | st.lists(st.floats(allow_nan=False)),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_point, max_size=12))
def test_points_cross_the_pipe_unchanged(points):
    """Any mix of vector names (both, one, none), texts, images and payloads."""
    arrived = unpack_points(pickle.loads(pickle.dumps(pack_points(points), protocol=5)))
    assert len(arrived) == len(points)
    for sent, got in zip(points, arrived, strict=True):
        assert (got.id, got.keyword_text, got.payload, got.image_data) == (
            sent.id,
            sent.keyword_text,
            sent.payload,
            sent.image_data,
        )
        assert got.vectors.keys() == sent.vectors.keys()
        for name, vector in sent.vectors.items():
            assert got.vectors[name].dtype == np.float32
            np.testing.assert_array_equal(got.vectors[name], vector)
        assert got == Point.model_validate(got.model_dump())  # a valid point, not a lookalike


def _every_error_class() -> list[type[errors.MmingestError]]:
    found: list[type[errors.MmingestError]] = []
    pending: list[type[errors.MmingestError]] = [errors.MmingestError]
    while pending:
        kind = pending.pop()
        found.append(kind)
        pending.extend(kind.__subclasses__())
    return found


def _instance(kind: type[errors.MmingestError]) -> errors.MmingestError:
    for args, kwargs in (
        (("it failed",), {"uri": "s3://bucket/key"}),
        (("it failed",), {"retry_after": 3.0, "uri": "s3://bucket/key"}),
        (("the store", "qdrant", "qdrant_client"), {}),
    ):
        try:
            return kind(*args, **kwargs)
        except TypeError:
            continue
    raise AssertionError(f"{kind.__name__}: add its constructor's arguments to this test")


@pytest.mark.parametrize("kind", _every_error_class(), ids=lambda kind: kind.__name__)
def test_every_mmingest_error_survives_pickling(kind):
    """A store in its own process raises its errors in the run's process unchanged."""
    error = _instance(kind)
    arrived = pickle.loads(pickle.dumps(error))
    assert type(arrived) is kind
    assert (arrived.args, vars(arrived), str(arrived)) == (error.args, vars(error), str(error))
    assert arrived.retryable == error.retryable and arrived.reason == error.reason
    assert _portable(error) is error


def test_an_error_that_cannot_travel_arrives_as_a_runtime_error_naming_it():
    class Unpicklable(Exception):
        def __init__(self, a, b):
            super().__init__(a)

    portable = _portable(Unpicklable("engine broke", 2))
    assert type(portable) is RuntimeError
    assert str(portable) == "Unpicklable: engine broke"
