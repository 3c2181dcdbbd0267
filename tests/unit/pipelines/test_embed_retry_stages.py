import threading
import time

import numpy as np
import pytest

from mmingest.pipelines.embed import embed_images_and_captions, embed_isolating
from mmingest.pipelines.retry import RetryPolicy, call_with_retry
from mmingest.pipelines.stages import AsyncRunner, chunked, prefetch_map
from mmingest.schemas.errors import (
    AuthenticationFailed,
    CorruptImage,
    InvalidInput,
    ProviderUnavailable,
    RateLimited,
)
from tests.support.fakes import HashEmbedder

FAST = RetryPolicy(attempts=3, base_delay_s=0.001, max_delay_s=0.002)


def vectors_for(items):
    # [item, 1, 1, 1]: item 0 too has a direction (an all-zero vector would be refused).
    matrix = np.ones((len(items), 4), dtype=np.float32)
    matrix[:, 0] = np.array(items, dtype=np.float32)
    return matrix


def test_isolation_costs_only_the_bad_inputs():
    calls = []

    def embed(batch):
        calls.append(list(batch))
        if 13 in batch or 27 in batch:
            raise InvalidInput("rejected")
        return vectors_for(batch)

    outcome = embed_isolating(embed, list(range(40)), batch_size=16, what="items", policy=FAST)
    assert set(outcome.errors) == {13, 27}
    assert all(outcome.vectors[i] is not None for i in range(40) if i not in (13, 27))
    assert outcome.vectors[5][0] == 5
    assert len(calls) < 20  # bisection, not one call per input


def test_transient_failures_are_retried_then_succeed():
    attempts = []

    def embed(batch):
        attempts.append(1)
        if len(attempts) < 3:
            raise ProviderUnavailable("503")
        return vectors_for(batch)

    outcome = embed_isolating(embed, [1, 2], batch_size=8, what="items", policy=FAST)
    assert not outcome.errors
    assert len(attempts) == 3


def test_transient_failures_that_persist_fail_only_their_batch():
    def embed(batch):
        if 0 in batch:
            raise ProviderUnavailable("still down")
        return vectors_for(batch)

    outcome = embed_isolating(embed, list(range(6)), batch_size=3, what="items", policy=FAST)
    assert set(outcome.errors) == {0, 1, 2}
    assert isinstance(outcome.errors[0], ProviderUnavailable)


def test_terminal_errors_stop_everything():
    def embed(batch):
        raise AuthenticationFailed("bad key")

    with pytest.raises(AuthenticationFailed):
        embed_isolating(embed, [1], batch_size=8, what="items", policy=FAST)


def test_a_wrong_number_of_vectors_is_a_malformed_reply_for_that_batch():
    # Issue 12: a reply with the wrong count fails its batch (retryable), not the run.
    outcome = embed_isolating(
        lambda b: vectors_for(b[:1]), [1, 2], batch_size=8, what="x", policy=FAST
    )
    assert set(outcome.errors) == {0, 1}
    assert all(isinstance(e, ProviderUnavailable) for e in outcome.errors.values())
    assert "shape (1, 4) for 2 x" in str(outcome.errors[0])


def test_images_and_captions_are_embedded_in_batches(image_folder):
    from PIL import Image

    embedder = HashEmbedder(max_batch=4)
    images = [Image.new("RGB", (4, 4), (i, 0, 0)) for i in range(10)]
    captions = [f"caption {i}" if i % 3 else None for i in range(10)]
    named, errors = embed_images_and_captions(
        embedder, [[i] for i in images], captions, policy=FAST
    )
    assert not errors
    assert [set(v) for v in named] == [{"image", "caption"} if c else {"image"} for c in captions]
    assert embedder.calls == [
        ("images", 4),
        ("images", 4),
        ("images", 2),
        ("texts", 4),
        ("texts", 2),
    ]


def test_a_caption_the_provider_rejects_fails_its_asset():
    from PIL import Image

    def fail(kind, inputs):
        if kind == "texts" and "bad" in inputs:
            raise InvalidInput("too long")

    embedder = HashEmbedder(fail=fail)
    images = [Image.new("RGB", (4, 4)) for _ in range(3)]
    _, errors = embed_images_and_captions(
        embedder, [[i] for i in images], ["ok", "bad", None], policy=FAST
    )
    assert list(errors) == [1]


def test_several_views_average_and_no_view_means_no_image_vector():
    from PIL import Image

    embedder = HashEmbedder(max_batch=2)
    red, blue = Image.new("RGB", (4, 4), (255, 0, 0)), Image.new("RGB", (4, 4), (0, 0, 255))
    named, errors = embed_images_and_captions(
        embedder, [[red, blue], [red], []], ["two views", None, "caption only"], policy=FAST
    )
    assert not errors
    single = embedder.embed_images([red])[0]
    both = embedder.embed_images([red, blue])
    expected = both.mean(axis=0) / np.linalg.norm(both.mean(axis=0))
    np.testing.assert_allclose(named[0]["image"], expected, rtol=1e-5)
    np.testing.assert_allclose(named[1]["image"], single, rtol=1e-6)
    assert set(named[2]) == {"caption"}


def test_retry_honours_retry_after():
    waits = []
    attempts = iter([RateLimited("429", retry_after=7.0), None])

    def action():
        error = next(attempts)
        if error:
            raise error
        return "done"

    assert call_with_retry(action, what="x", sleep=waits.append) == "done"
    assert waits == [7.0]


def test_backoff_grows_with_jitter_and_a_cap():
    policy = RetryPolicy(base_delay_s=1, max_delay_s=4)
    error = ProviderUnavailable("x")
    for attempt, ceiling in [(1, 1), (2, 2), (3, 4), (6, 4)]:
        delays = [policy.delay(attempt, error) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)


def test_non_transient_errors_are_not_retried():
    calls = []

    def action():
        calls.append(1)
        raise CorruptImage("bad")

    with pytest.raises(CorruptImage):
        call_with_retry(action, what="x", sleep=lambda _: None)
    assert len(calls) == 1


def test_prefetch_map_keeps_order_and_bounds_lookahead():
    started = []
    lock = threading.Lock()

    def work(item):
        with lock:
            started.append(item)
        time.sleep(0.001 * (item % 3))
        return item * 10

    results = []
    for value in prefetch_map(work, range(30), workers=3, depth=2):
        with lock:
            assert len(started) <= value // 10 + 3  # at most depth + 1 items ahead
        results.append(value)
    assert results == [i * 10 for i in range(30)]


def test_prefetch_map_propagates_worker_errors():
    def work(item):
        if item == 3:
            raise ValueError("boom")
        return item

    with pytest.raises(ValueError, match="boom"):
        list(prefetch_map(work, range(10), workers=2, depth=2))


def test_async_runner_runs_coroutines_from_threads():
    import asyncio

    async def double(x):
        await asyncio.sleep(0)
        return 2 * x

    with AsyncRunner() as runner:
        assert runner.run(double(21)) == 42
    assert list(chunked(range(5), 2)) == [[0, 1], [2, 3], [4]]


def test_batches_run_up_to_the_allowed_concurrency():
    running, peak, lock = [0], [0], threading.Lock()

    def embed(batch):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.02)
        with lock:
            running[0] -= 1
        return vectors_for(batch)

    outcome = embed_isolating(
        embed, list(range(12)), batch_size=1, what="items", policy=FAST, concurrency=3
    )
    assert not outcome.errors
    assert [v[0] for v in outcome.vectors] == list(range(12))
    assert peak[0] == 3


def test_a_terminal_error_stops_concurrent_batches_early():
    calls = []

    def embed(batch):
        calls.append(batch)
        time.sleep(0.01)
        raise AuthenticationFailed("bad key")

    with pytest.raises(AuthenticationFailed):
        embed_isolating(embed, list(range(50)), batch_size=1, what="x", policy=FAST, concurrency=4)
    assert len(calls) < 10  # batches not started are cancelled


def test_images_and_captions_go_side_by_side_when_concurrency_allows():
    from PIL import Image

    from mmingest.schemas.embedding import EmbedderLimits

    both_in_flight = threading.Barrier(2, timeout=5)
    embedder = HashEmbedder(max_batch=8, fail=lambda kind, inputs: both_in_flight.wait())
    limits = EmbedderLimits(max_batch=8, max_concurrency=2)
    embedder._info = embedder.info.model_copy(update={"limits": limits})
    images = [[Image.new("RGB", (4, 4), (i, 0, 0))] for i in range(3)]
    named, errors = embed_images_and_captions(embedder, images, ["a", None, "c"], policy=FAST)
    assert not errors
    assert [set(v) for v in named] == [{"image", "caption"}, {"image"}, {"image", "caption"}]
