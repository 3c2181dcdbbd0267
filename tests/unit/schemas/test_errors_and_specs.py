import pytest

from mmingest.schemas import CollectionSpec, EmbedderInfo, HybridQuery
from mmingest.schemas.errors import (
    CorruptImage,
    DecompressionBomb,
    InvalidInput,
    RateLimited,
    SchemaMismatch,
    TerminalError,
    TransientError,
)
from mmingest.schemas.summary import Failure, RunSummary


def test_error_families_say_whether_a_retry_helps():
    assert RateLimited("slow down", retry_after=2).retryable
    assert isinstance(RateLimited("x"), TransientError)
    assert not CorruptImage("bad").retryable
    assert isinstance(CorruptImage("bad"), InvalidInput)
    assert isinstance(SchemaMismatch("x"), TerminalError)
    assert not isinstance(SchemaMismatch("x"), InvalidInput)


def test_error_reason_is_a_snake_case_name():
    assert CorruptImage("x").reason == "corrupt_image"
    assert DecompressionBomb("x").reason == "decompression_bomb"


def test_failure_of_unexpected_errors_keeps_the_type():
    failure = Failure.of("file:///a", "read", KeyError("k"))
    assert failure.error_type == "KeyError"
    assert failure.reason == "unexpected_error"


def test_summary_balance():
    summary = RunSummary(collection="c", seen=10, written=5, unchanged=2, ignored=1, failed=2)
    assert summary.skipped == 3
    assert summary.balanced
    summary.seen += 1
    assert not summary.balanced


def test_spec_differences_name_what_changed():
    small = CollectionSpec.for_embedder("c", EmbedderInfo(provider="clip", model="a", dimension=4))
    large = CollectionSpec.for_embedder("c", EmbedderInfo(provider="clip", model="b", dimension=8))
    assert small.differences(small) == []
    problems = small.differences(large)
    assert any("clip:a (4-d) != clip:b (8-d)" in p for p in problems)
    assert any("vectors" in p for p in problems)


def test_query_needs_a_channel():
    with pytest.raises(
        ValueError, match="at least one dense probe, vectorize probe or keyword text"
    ):
        HybridQuery()
    assert HybridQuery(keyword_text="x", k=5).candidate_limit == 20


def test_weights_are_part_of_the_space_when_both_sides_recorded_them():
    def spec(weights):
        info = EmbedderInfo(provider="clip", model="tiny", dimension=4, weights=weights)
        return CollectionSpec.for_embedder("c", info)

    assert spec("aaaa").differences(spec("aaaa")) == []
    (problem,) = spec("aaaa").differences(spec("bbbb"))
    assert "weights aaaa" in problem and "weights bbbb" in problem
    # A collection created before weights were recorded keeps working with its model.
    assert spec(None).differences(spec("bbbb")) == []
    assert spec("aaaa").differences(spec(None)) == []
    other_model = CollectionSpec.for_embedder(
        "c", EmbedderInfo(provider="clip", model="other", dimension=4, weights="aaaa")
    )
    assert spec("aaaa").differences(other_model)
