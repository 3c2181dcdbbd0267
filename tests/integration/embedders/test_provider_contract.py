"""What every provider embedder does, proven against each provider's emulator.

Each test runs once per provider through the real SDK (Cohere, Voyage, DashScope) or the
documented REST call (Vertex, Azure AI Vision): embeddings per modality and input kind, billed
units equal to what the provider counted, Retry-After honoured, transport faults turned into
retryable errors, a refused input isolated, wrong credentials stopping the run at once, limits
enforced before sending, a client quota that keeps under the provider's, and cache hits that
send nothing.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from mmingest.connectors.embedders.cache import cached
from mmingest.connectors.embedders.remote import RateLimiter
from mmingest.connectors.sources.memory import MemorySource
from mmingest.pipelines.embed import embed_images_and_captions, embed_isolating
from mmingest.pipelines.ingest import ingest_images
from mmingest.pipelines.retry import RetryPolicy
from mmingest.schemas.config import IngestConfig
from mmingest.schemas.embedding import InputKind
from mmingest.schemas.errors import (
    AuthenticationFailed,
    InputRejected,
    InvalidInput,
    ProviderUnavailable,
)
from tests.integration.embedders.conftest import FAST, KEY, MODERATED
from tests.support.providers import picture, png

pytestmark = pytest.mark.timeout(60)

NO_RETRY = RetryPolicy(attempts=1)


def test_texts_images_and_queries_embed(embedder, emulator):
    docs = embedder.embed_texts(["a red running shoe", "a blue kettle"])
    query = embedder.embed_texts(["a red running shoe"], kind=InputKind.QUERY)
    images = embedder.embed_images([picture(1), picture(2)])
    dimension = embedder.info.dimension
    assert docs.shape == images.shape == (2, dimension)
    assert docs.dtype == images.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(np.vstack([docs, images]), axis=1), 1.0, rtol=1e-5)
    # The emulators' vectors ignore the input type, so a query equal to a document finds it.
    np.testing.assert_allclose(query[0], docs[0], atol=1e-5)
    assert not np.allclose(docs[0], docs[1])
    assert not np.allclose(images[0], images[1])
    assert emulator.counters.errors_sent == 0


def test_usage_matches_what_the_provider_billed(embedder, emulator):
    assert embedder.usage().requests == 0
    embedder.embed_texts(["one two three", "four", "five six"])
    embedder.embed_images([picture(3), picture(4, size=(120, 90))])
    embedder.embed_texts(["a query"], kind=InputKind.QUERY)
    usage, counters = embedder.usage(), emulator.counters
    assert usage.billed_units == counters.billed_units
    assert usage.billed_units  # every provider bills something
    assert usage.requests == counters.requests_served
    assert usage.inputs == counters.inputs_embedded == 6


def test_rate_limited_request_waits_for_retry_after_then_succeeds(embedder, emulator, ledger):
    emulator.fail_next(1, status=429, retry_after=1)
    ledger.faults(1)
    patient = RetryPolicy(attempts=3, base_delay_s=0.005, max_delay_s=5)
    outcome = embed_isolating(
        embedder.embed_texts, ["a", "b"], batch_size=2, what="texts", policy=patient
    )
    assert not outcome.errors
    first, second = emulator.requests[:2]
    assert (first.status, second.status) == (429, 200)
    assert second.received_at - first.received_at >= 0.95
    assert emulator.counters.rate_limited == 1


def _inject(emulator, fault: str, count: int, ledger) -> None:
    ledger.faults(count)
    {
        "503": lambda: emulator.fail_next(count, status=503),
        "500": lambda: emulator.fail_next(count, status=500),
        "slow": lambda: emulator.delay_next(count, seconds=2),
        "drop": lambda: emulator.drop_next(count),
        "malformed": lambda: emulator.malformed_next(count),
        "truncated": lambda: emulator.truncated_next(count),
    }[fault]()


@pytest.mark.parametrize("fault", ["500", "slow", "drop", "malformed", "truncated"])
def test_transport_faults_are_retryable_errors(case, emulator, fault, ledger):
    embedder = case.build(emulator, KEY, timeout_s=0.5 if fault == "slow" else 10)
    _inject(emulator, fault, 1, ledger)
    with pytest.raises(ProviderUnavailable) as caught:
        embedder.embed_texts(["x"])
    assert case.name in caught.value.message
    embedder.close()
    again = case.build(emulator, KEY)
    assert again.embed_texts(["x"]).shape == (1, again.info.dimension)
    again.close()


@pytest.mark.parametrize("fault", ["503", "drop", "malformed"])
def test_a_batch_failing_every_retry_is_dead_lettered_alone(case, emulator, fault, ledger):
    embedder = case.build(emulator, KEY, concurrency=1)
    _inject(emulator, fault, FAST.attempts, ledger)
    images = [[picture(i)] for i in range(3)]
    named, errors = embed_images_and_captions(
        embedder, images, ["one", "two", "three"], policy=FAST
    )
    first_batch = set(range(min(embedder.info.limits.max_batch, 3)))
    assert set(errors) == first_batch
    assert all(isinstance(error, ProviderUnavailable) for error in errors.values())
    assert all("image" in named[i] and "caption" in named[i] for i in range(3) if i not in errors)
    assert emulator.pending_faults() == 0
    embedder.close()


def test_a_refused_input_is_isolated_and_only_it_fails(embedder, emulator, ledger):
    ledger.bad_inputs(1)
    texts = [f"caption number {i}" for i in range(12)]
    texts[7] = f"{MODERATED} caption"
    limits = embedder.info.limits
    outcome = embed_isolating(
        embedder.embed_texts,
        texts,
        batch_size=limits.max_batch,
        what="captions",
        policy=FAST,
        concurrency=limits.max_concurrency,
    )
    assert list(outcome.errors) == [7]
    assert isinstance(outcome.errors[7], InputRejected)
    assert "content moderation" in outcome.errors[7].message
    assert all(vector is not None for i, vector in enumerate(outcome.vectors) if i != 7)
    requests = emulator.counters.requests_received
    if limits.max_batch > 1:
        assert requests <= 2 + 2 * math.ceil(math.log2(12))  # bisection, not one per input
    else:
        assert requests == 12


def test_wrong_credentials_stop_the_run_at_once(case, emulator, edge_store, ledger):
    ledger.faults(1)  # the provider refuses the key
    embedder = case.build(emulator, "wrong-key-4242")
    source = MemorySource(f"memory://wrong-credentials-{case.name}")
    source.clear()
    for i in range(40):
        source.put(f"photo-{i:02d}.png", png(picture(i)))
    with pytest.raises(AuthenticationFailed) as caught:
        ingest_images(
            source, embedder, edge_store, collection="photos", config=IngestConfig(batch_size=10)
        )
    assert emulator.counters.requests_received <= embedder.info.limits.max_concurrency
    assert "credentials were rejected" in caught.value.message
    assert "wrong-key-4242" not in caught.value.message
    sent = emulator.counters.requests_received
    with pytest.raises(AuthenticationFailed):
        embedder.embed_texts(["any later call"])
    assert emulator.counters.requests_received == sent  # nothing more is sent
    embedder.close()


def test_an_empty_text_is_refused_without_a_request(embedder, emulator):
    with pytest.raises(InvalidInput, match="empty text"):
        embedder.embed_texts(["fine", "   "])
    assert emulator.counters.requests_received == 0


def test_the_client_quota_keeps_under_the_providers_quota(case, emulator):
    texts = [f"text {i}" for i in range(8)]

    def run(embedder, texts):
        started = time.monotonic()
        outcome = embed_isolating(
            embedder.embed_texts, texts, batch_size=1, what="texts", policy=NO_RETRY, concurrency=4
        )
        embedder.close()
        return outcome, time.monotonic() - started

    emulator.rate_limit(3, window_seconds=0.5)
    unlimited, _ = run(case.build(emulator, KEY), texts[:4])
    assert unlimited.errors  # the control: without the limiter the quota refuses calls
    emulator.reset()
    emulator.rate_limit(3, window_seconds=0.5)
    limiter = RateLimiter(requests=3, window_s=0.5)
    limited, elapsed = run(case.build(emulator, KEY, limiter=limiter), texts)
    assert not limited.errors
    assert emulator.counters.rate_limited == 0
    assert emulator.counters.requests_served == 8
    assert elapsed >= 1.0  # 8 requests at 3 per half second need two more windows


def test_the_cache_answers_repeated_content_without_calling(case, emulator, tmp_path):
    path = tmp_path / "cache" / "embeddings.sqlite3"
    embedder = cached(case.build(emulator, KEY), path)
    photos = [picture(1), picture(2), picture(1)]  # a duplicate product photo
    first = embedder.embed_images(photos)
    texts = embedder.embed_texts(["red shoe", "red shoe"])
    assert emulator.counters.inputs_embedded == 3
    sent = emulator.counters.requests_received
    again = embedder.embed_images(photos)
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(first[0], first[2])
    np.testing.assert_array_equal(texts, embedder.embed_texts(["red shoe", "red shoe"]))
    query = embedder.embed_texts(["red shoe"], kind=InputKind.QUERY)  # another input kind
    assert emulator.counters.requests_received == sent + 1
    np.testing.assert_allclose(query[0], texts[0], atol=1e-5)
    usage = embedder.usage()
    assert (usage.cache_hits, usage.cache_misses) == (2 + 5, 4)
    embedder.close()

    reopened = cached(case.build(emulator, KEY), path)  # a later run: the store was wiped
    np.testing.assert_array_equal(reopened.embed_images(photos), first)
    assert emulator.counters.requests_received == sent + 1
    reopened.close()
    assert sorted(p.name for p in path.parent.iterdir()) <= sorted(
        [path.name, f"{path.name}-wal", f"{path.name}-shm"]
    )
