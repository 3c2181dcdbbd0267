"""Every mmingest error survives pickling (task runners and process pools send errors across)."""

from __future__ import annotations

import pickle

import pytest

from mmingest.schemas import errors


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
    error = _instance(kind)
    error.note = "set after construction"  # attributes added later travel too
    arrived = pickle.loads(pickle.dumps(error))
    assert type(arrived) is kind
    assert (arrived.args, vars(arrived), str(arrived)) == (error.args, vars(error), str(error))
    assert arrived.retryable == error.retryable and arrived.reason == error.reason


def test_the_whole_hierarchy_is_covered():
    names = {kind.__name__ for kind in _every_error_class()}
    assert {"MissingExtra", "RateLimited", "StorageFault", "CorruptImage"} <= names
