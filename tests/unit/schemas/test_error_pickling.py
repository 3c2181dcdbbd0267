"""Every mmingest error survives pickling (task runners and process pools send errors across)."""

from __future__ import annotations

import importlib
import pickle
import pkgutil

import pytest

import mmingest
from mmingest.schemas import errors


def _every_error_class() -> list[type[errors.MmingestError]]:
    # Every module first: subclasses exist only once their module is imported, and the set
    # must not depend on which other tests were collected (run alone, this file saw 27 of 36).
    for module in pkgutil.walk_packages(mmingest.__path__, "mmingest."):
        if not module.name.endswith("__main__"):  # a __main__ runs its command on import
            importlib.import_module(module.name)
    found: dict[type[errors.MmingestError], None] = {}
    pending: list[type[errors.MmingestError]] = [errors.MmingestError]
    while pending:
        kind = pending.pop()
        if kind not in found:  # a class with two error parents is reached twice
            found[kind] = None
            pending.extend(kind.__subclasses__())
    return sorted(found, key=lambda kind: (kind.__module__, kind.__qualname__))


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
    assert {"RecordError", "SidecarError", "IncompleteDocument", "CatalogError"} <= names
