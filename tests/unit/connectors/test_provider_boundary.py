"""The provider boundary without a network: Retry-After values from the wire, replies of
any shape, and vectors without a finite positive norm, each ending as a clear error."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from mmingest.connectors.embedders.base import (
    DegenerateVector,
    check_vector,
    degenerate_rows,
    vector_problem,
)
from mmingest.connectors.embedders.remote import Item, RateLimiter, RemoteEmbedder, Reply
from mmingest.connectors.embedders.remote.errors import for_status, retry_after
from mmingest.connectors.embedders.remote.vectors import to_vectors
from mmingest.pipelines.embed import embed_images_and_captions, embed_isolating
from mmingest.pipelines.retry import RetryPolicy
from mmingest.schemas.embedding import EmbedderInfo, EmbedderLimits, InputKind
from mmingest.schemas.errors import (
    MAX_RETRY_AFTER_S,
    AuthenticationFailed,
    ProviderUnavailable,
    RateLimited,
)
from tests.support.fakes import HashEmbedder
from tests.support.providers import picture

NO_RETRY = RetryPolicy(attempts=1)
QUICK = RetryPolicy(attempts=3, base_delay_s=0.001, max_delay_s=0.002)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("7", 7.0),
        ("86400", MAX_RETRY_AFTER_S),
        ("inf", MAX_RETRY_AFTER_S),
        ("Infinity", MAX_RETRY_AFTER_S),
        ("1e400", MAX_RETRY_AFTER_S),
        ("9" * 400, MAX_RETRY_AFTER_S),
        ("nan", None),
        ("-5", None),
        ("-inf", None),
        ("Fri, 31 Dec 9999 23:59:59 GMT", MAX_RETRY_AFTER_S),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
        ("Mon, 99 Foo 0000 99:99:99 GMT", None),
        ("soon", None),
    ],
)
def test_retry_after_is_parsed_safely_and_capped(header, seconds):
    assert retry_after({"Retry-After": header}) == seconds
    error = for_status("p", 429, "slow down", headers={"Retry-After": header})
    assert isinstance(error, RateLimited)
    assert error.retry_after == seconds


@pytest.mark.parametrize("value", [86400.0, math.inf, 1e300])
def test_every_wait_is_capped_the_retry_and_the_limiters_pause(value):
    error = RateLimited("p answered 429", retry_after=value)
    assert RetryPolicy().delay(1, error) == MAX_RETRY_AFTER_S
    clock = [100.0]
    limiter = RateLimiter(requests=10, clock=lambda: clock[0])
    limiter.pause(value)
    assert limiter._wait_needed(0) == pytest.approx(MAX_RETRY_AFTER_S)
    limiter.pause(math.nan)  # garbage never extends or breaks the pause
    assert limiter._wait_needed(0) == pytest.approx(MAX_RETRY_AFTER_S)


class Scripted(RemoteEmbedder):
    """A provider whose ``_call`` does whatever the test scripts (returns or raises)."""

    provider = "scripted"

    def __init__(self, reply, *, dimension: int = 3) -> None:
        super().__init__(
            EmbedderInfo(
                provider="scripted",
                model="m",
                dimension=dimension,
                limits=EmbedderLimits(max_batch=8),
            )
        )
        self.reply = reply
        self.calls = 0

    def _call(self, items: list[Item], kind: InputKind) -> Reply:
        self.calls += 1
        return self.reply(items)

    def close(self) -> None:
        pass


def _raise(error: Exception):
    def reply(items):
        raise error

    return reply


@pytest.mark.parametrize(
    "reply",
    [
        _raise(TypeError("string indices must be integers")),  # the SDK on "text"
        _raise(KeyError("embeddings")),
        _raise(AttributeError("'list' object has no attribute 'get'")),
        _raise(ValueError("1 validation error for EmbedResponse")),
        lambda items: Reply([1, 2]),
        lambda items: Reply("text"),  # type: ignore[arg-type]
        lambda items: Reply({"embeddings": "x"}),  # type: ignore[arg-type]
        lambda items: Reply([[1.0, 2.0, 3.0]] * (len(items) + 1)),
        lambda items: Reply([[1.0, 2.0]] * len(items)),
        lambda items: Reply([["a", "b", "c"]] * len(items)),
        lambda items: Reply([[1.0, 2.0, 3.0]] * len(items), billed="lots"),  # type: ignore[arg-type]
    ],
)
def test_a_malformed_reply_is_a_retryable_provider_error(reply, ledger):
    embedder = Scripted(reply)
    ledger.bad_inputs(1)
    with pytest.raises(ProviderUnavailable, match="scripted"):
        embedder.embed_texts(["a", "b"])
    outcome = embed_isolating(
        embedder.embed_texts, ["a", "b"], batch_size=8, what="texts", policy=QUICK
    )
    assert set(outcome.errors) == {0, 1}
    assert embedder.calls == 1 + 3  # retried by the pipeline's policy, never escaping


def test_run_stopping_errors_still_escape_the_provider_boundary():
    embedder = Scripted(_raise(AuthenticationFailed("scripted answered 401")))
    with pytest.raises(AuthenticationFailed):
        embed_isolating(embedder.embed_texts, ["a"], batch_size=8, what="texts")


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ([1e308, 1.0, 0.0], "overflows"),
        ([math.nan, 1.0, 0.0], "NaN or infinite"),
        ([math.inf, 0.0, 0.0], "NaN or infinite"),
        ([0.0, 0.0, 0.0], "all zeros"),
    ],
)
def test_a_vector_without_a_finite_positive_norm_is_refused_per_input(row, problem, ledger):
    assert problem in (vector_problem(np.array(row)) or "")
    with pytest.raises(DegenerateVector, match="finite and positive"):
        check_vector(np.array(row), "this text")
    embedder = Scripted(lambda items: Reply([row, [3.0, 4.0, 0.0]] * (len(items) // 2)))
    ledger.bad_inputs(1)
    outcome = embed_isolating(
        embedder.embed_texts, ["bad", "good"], batch_size=8, what="texts", policy=NO_RETRY
    )
    assert isinstance(outcome.errors[0], DegenerateVector)
    assert 1 not in outcome.errors
    np.testing.assert_allclose(outcome.vectors[1], [0.6, 0.8, 0.0])
    # Never stored as zeros: the reply's other rows are used as they are.
    assert not np.any(
        np.isnan(
            to_vectors(
                [[3.0, 4.0, 0.0]], count=1, dimension=3, embedding_type="float", provider="p"
            )
        )
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_batch_check_flags_exactly_the_rows_the_row_check_refuses(dtype):
    rows = [
        [1e308, 1.0, 0.0],
        [3.0, 4.0, 0.0],
        [math.nan, 1.0, 0.0],
        [1e-30, 0.0, 0.0],  # tiny but with a direction
        [-math.inf, 0.0, 0.0],
        [0.0, 0.0, 0.0],
        [1e38, 1e38, 1e38],  # float32's limit: the float64 norm is still finite
    ]
    matrix = np.array(rows, dtype=dtype)
    expected = {i for i, row in enumerate(matrix) if vector_problem(row) is not None}
    assert degenerate_rows(matrix) == expected
    assert {0, 2, 4, 5} <= expected and not expected & {1, 3, 6}


def test_views_whose_mean_has_no_direction_fail_their_product():
    class Opposite(HashEmbedder):
        def embed_images(self, images):
            return np.array([[1.0] + [0.0] * 15, [-1.0] + [0.0] * 15][: len(images)], np.float32)

    named, errors = embed_images_and_captions(
        Opposite(), [[picture(1), picture(2)]], ["a product"], policy=NO_RETRY
    )
    assert isinstance(errors[0], DegenerateVector)
    assert "IMAGE" not in named[0] and "image" not in named[0]


def test_an_unexpected_exception_from_any_embedder_fails_its_inputs_only():
    def boom(batch):
        if "poison" in batch:
            raise TypeError("unsupported operand")
        return np.eye(3, dtype=np.float32)[: len(batch)]

    started = time.monotonic()
    outcome = embed_isolating(
        boom,
        ["a", "poison", "b"],
        batch_size=1,
        what="texts",
        policy=RetryPolicy(attempts=2, base_delay_s=0.001),
    )
    assert set(outcome.errors) == {1}
    assert isinstance(outcome.errors[1], TypeError)
    assert time.monotonic() - started < 5
