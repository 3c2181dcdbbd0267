"""The provider boundary: a 200 reply of any shape ends as vectors or per-input errors.

Every provider's real SDK or REST call is fed replies rewritten on the wire (a top-level
list, text, ``{"embeddings": "x"}``, a missing vector, a short vector, words instead of
numbers, a 1e308 component, an all-zero vector). Nothing escapes: each input gets a unit
vector or an mmingest error saying what was wrong, and the wrong shapes are retryable.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from mmingest.connectors.embedders.base import DegenerateVector
from mmingest.pipelines.embed import embed_isolating
from mmingest.pipelines.retry import RetryPolicy
from mmingest.schemas.errors import MmingestError, ProviderUnavailable

pytestmark = pytest.mark.timeout(60)

NO_RETRY = RetryPolicy(attempts=1)


def _is_vector(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) > 1
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    )


def _each_vector(body: Any, change: Callable[[list[Any]], Any]) -> Any:
    """``body`` with every numeric list (an embedding) replaced by ``change(it)``."""
    if _is_vector(body):
        return change(body)
    if isinstance(body, list):
        return [_each_vector(item, change) for item in body]
    if isinstance(body, dict):
        return {
            key: _each_base64(value, change)
            if key == "embedding" and isinstance(value, str)
            else _each_vector(value, change)
            for key, value in body.items()
        }
    return body


def _each_base64(value: str, change: Callable[[list[Any]], Any]) -> str:
    """A base64 float32 embedding (Voyage's output_encoding) changed the same way."""
    vector = np.frombuffer(base64.b64decode(value), dtype="<f4").tolist()
    try:
        with np.errstate(over="ignore"):
            changed = np.asarray(change(vector), dtype="<f4")
    except ValueError:
        return value  # words cannot be base64 floats
    return base64.b64encode(changed.tobytes()).decode()


def _drop_last_vector(body: Any) -> Any:
    if isinstance(body, list) and len(body) > 1 and all(_is_vector(item) for item in body):
        return body[:-1]
    if isinstance(body, list):
        if len(body) > 1 and all(isinstance(item, dict) for item in body):
            return body[:-1]  # providers that wrap each vector in an object
        return [_drop_last_vector(item) for item in body]
    if isinstance(body, dict):
        # A reply holding one vector (one input per request) loses that one.
        return {
            key: [] if _is_vector(value) else _drop_last_vector(value)
            for key, value in body.items()
        }
    return body


SHAPES: dict[str, Callable[[Any], Any]] = {
    "a top-level list": lambda body: [1, 2],
    "a top-level string": lambda body: "text",
    "null": lambda body: None,
    "an empty object": lambda body: {},
    "embeddings as text": lambda body: {"embeddings": "x", "data": "x", "output": "x"},
    "one vector missing": _drop_last_vector,
    "vectors one value short": lambda body: _each_vector(body, lambda v: v[:-1]),
    "words for numbers": lambda body: _each_vector(body, lambda v: ["x"] * len(v)),
}
DEGENERATE: dict[str, Callable[[Any], Any]] = {
    "a 1e308 component": lambda body: _each_vector(body, lambda v: [1e308, *v[1:]]),
    "all zeros": lambda body: _each_vector(body, lambda v: [0] * len(v)),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_reply_of_the_wrong_shape_fails_its_inputs_retryably(embedder, emulator, ledger, shape):
    changed: list[bool] = []

    def rewrite(body: Any) -> Any:
        rewritten = SHAPES[shape](body)
        changed.append(rewritten != body)
        return rewritten

    emulator.rewrite_next(rewrite)
    ledger.bad_inputs(1)
    outcome = embed_isolating(
        embedder.embed_texts,
        ["a red shoe", "a blue kettle"],
        batch_size=2,
        what="texts",
        policy=NO_RETRY,
        dimension=embedder.info.dimension,
    )
    if changed == [False]:
        pytest.skip(f"{shape}: this provider's reply carries its vectors base64-encoded")
    assert set(outcome.errors) == {0, 1}, shape
    assert all(isinstance(e, ProviderUnavailable) for e in outcome.errors.values()), {
        type(e).__name__: str(e) for e in outcome.errors.values()
    }
    # The next, normal reply is used as usual.
    again = embed_isolating(
        embedder.embed_texts, ["a red shoe"], batch_size=2, what="texts", policy=NO_RETRY
    )
    assert not again.errors


@pytest.mark.parametrize("kind", sorted(DEGENERATE))
def test_a_vector_without_a_finite_positive_norm_is_refused_per_input(
    embedder, emulator, ledger, kind
):
    emulator.rewrite_next(DEGENERATE[kind], n=2)  # one request per input for some providers
    ledger.bad_inputs(1)
    outcome = embed_isolating(
        embedder.embed_texts,
        ["a red shoe", "a blue kettle"],
        batch_size=2,
        what="texts",
        policy=NO_RETRY,
        dimension=embedder.info.dimension,
    )
    for index in (0, 1):
        error, vector = outcome.errors.get(index), outcome.vectors[index]
        assert (error is None) != (vector is None)
        if vector is not None:
            assert np.isclose(np.linalg.norm(vector), 1.0, rtol=1e-4)
        else:
            assert isinstance(error, MmingestError)
    refused = [e for e in outcome.errors.values() if isinstance(e, DegenerateVector)]
    if kind == "all zeros" or embedder.info.embedding_type == "float":
        assert len(refused) == 2, outcome.errors
        assert "finite and positive" in str(refused[0])
