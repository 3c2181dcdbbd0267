"""Cohere and Voyage specifics: input types, dimensions, embedding types, mixed inputs."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pytest

from mmingest.connectors.embedders.cache import cached
from mmingest.connectors.embedders.cohere import CohereEmbedder
from mmingest.connectors.embedders.voyage import VoyageEmbedder
from mmingest.schemas.config import CohereEmbedderConfig, VoyageEmbedderConfig
from mmingest.schemas.embedding import InputKind
from mmingest.schemas.errors import CapabilityMissing, ConfigError
from tests.emulators.providers import CohereEmulator, VoyageEmulator
from tests.integration.embedders.conftest import KEY
from tests.support.providers import picture

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def cohere_emu() -> Iterator[CohereEmulator]:
    with CohereEmulator(api_key=KEY) as emulator:
        yield emulator


@pytest.fixture
def voyage_emu() -> Iterator[VoyageEmulator]:
    with VoyageEmulator(api_key=KEY) as emulator:
        yield emulator


def cohere(emulator: CohereEmulator, **options) -> CohereEmbedder:
    return CohereEmbedder(CohereEmbedderConfig(api_key=KEY, base_url=emulator.base_url, **options))


def voyage(emulator: VoyageEmulator, **options) -> VoyageEmbedder:
    return VoyageEmbedder(VoyageEmbedderConfig(api_key=KEY, base_url=emulator.base_url, **options))


def test_cohere_sends_input_types_dimension_and_truncation(cohere_emu):
    embedder = cohere(cohere_emu, dimension=512)
    assert (embedder.info.dimension, embedder.info.mixed_inputs) == (512, True)
    embedder.embed_texts(["a red shoe"])
    embedder.embed_texts(["red shoes"], kind=InputKind.QUERY)
    embedder.embed_images([picture(1)])
    documents, query, images = (r.body for r in cohere_emu.requests)
    assert documents["input_type"] == "search_document"
    assert (documents["output_dimension"], documents["embedding_types"]) == (512, ["float"])
    assert documents["truncate"] == "END"
    assert query["input_type"] == "search_query"
    assert images["input_type"] == "search_document"
    assert images["images"][0].startswith("data:image/jpeg;base64,")


def test_cohere_splits_calls_at_96_inputs(cohere_emu):
    embedder = cohere(cohere_emu)
    vectors = embedder.embed_texts([f"text {i}" for i in range(200)])
    assert vectors.shape == (200, 1536)
    assert [len(r.body["texts"]) for r in cohere_emu.requests] == [96, 96, 8]


def test_cohere_int8_and_binary_embeddings_become_unit_float_vectors(cohere_emu):
    texts = ["a red running shoe", "a blue kettle", "a green lamp"]
    floats = cohere(cohere_emu, dimension=256).embed_texts(texts)
    int8 = cohere(cohere_emu, dimension=256, embedding_type="int8")
    binary = cohere(cohere_emu, dimension=256, embedding_type="binary")
    assert (int8.info.embedding_type, binary.info.embedding_type) == ("int8", "binary")
    quantized = int8.embed_texts(texts)
    assert np.all(np.sum(quantized * floats, axis=1) > 0.95)  # same direction, coarser
    bits = binary.embed_texts(texts)
    expected = np.where(floats > 0, 1.0, -1.0) / math.sqrt(256)
    np.testing.assert_allclose(bits, expected, atol=1e-6)
    # Cosine over the unpacked bits is 1 - 2 * hamming / dimension.
    hamming = int(np.sum((floats[0] > 0) != (floats[1] > 0)))
    assert float(bits[0] @ bits[1]) == pytest.approx(1 - 2 * hamming / 256, abs=1e-5)
    assert cohere_emu.requests[-1].body["embedding_types"] == ["binary"]


def test_cohere_mixed_inputs_fuse_text_and_image_into_one_vector(cohere_emu, tmp_path):
    embedder = cached(cohere(cohere_emu), tmp_path / "cache.sqlite3")
    shoe = picture(7)
    fused = embedder.embed_mixed([["red running shoe", shoe], [shoe, "red running shoe"]])
    text = embedder.embed_texts(["red running shoe"])
    image = embedder.embed_images([shoe])
    assert fused.shape == (2, 1536)
    assert not np.allclose(fused[0], text[0]) and not np.allclose(fused[0], image[0])
    assert not np.allclose(fused[0], fused[1])  # order matters: the parts are interleaved
    body = cohere_emu.requests[0].body
    assert [p["type"] for p in body["inputs"][0]["content"]] == ["text", "image_url"]
    sent = cohere_emu.counters.requests_received
    np.testing.assert_array_equal(embedder.embed_mixed([["red running shoe", shoe]])[0], fused[0])
    assert cohere_emu.counters.requests_received == sent  # from the cache
    embedder.close()


def test_cohere_v3_models_send_one_image_per_request_and_cannot_fuse(cohere_emu):
    embedder = cohere(cohere_emu, model="embed-english-v3.0")
    assert (embedder.info.dimension, embedder.info.mixed_inputs) == (1024, False)
    assert embedder.embed_images([picture(1), picture(2)]).shape == (2, 1024)
    assert [r.body["input_type"] for r in cohere_emu.requests] == ["image", "image"]
    assert "output_dimension" not in cohere_emu.requests[0].body
    with pytest.raises(CapabilityMissing, match="cannot fuse"):
        embedder.embed_mixed([["text", picture(1)]])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"model": "embed-v9"}, "unknown Cohere embed model 'embed-v9'"),
        ({"dimension": 300}, "offers dimensions 256, 512, 1024, 1536, not 300"),
        ({"model": "embed-english-v3.0", "dimension": 512}, "offers dimensions 1024"),
        ({"api_key": None}, "no cohere API key: set MMINGEST_EMBEDDER__API_KEY or CO_API_KEY"),
    ],
)
def test_cohere_configuration_errors_are_caught_before_any_request(cohere_emu, options, message):
    config = {"api_key": KEY, "base_url": cohere_emu.base_url} | options
    with pytest.raises(ConfigError, match=message):
        CohereEmbedder(CohereEmbedderConfig(**config))
    assert cohere_emu.counters.requests_received == 0


def test_voyage_sends_interleaved_content_and_input_types(voyage_emu):
    embedder = voyage(voyage_emu)
    shoe = picture(3)
    fused = embedder.embed_mixed([["a red shoe", shoe, "on a white floor"]])
    embedder.embed_texts(["red shoes"], kind=InputKind.QUERY)
    mixed, query = (r.body for r in voyage_emu.requests)
    content = mixed["inputs"][0]["content"]
    assert [part["type"] for part in content] == ["text", "image_base64", "text"]
    assert content[1]["image_base64"].startswith("data:image/jpeg;base64,")
    assert (mixed["input_type"], mixed["truncation"]) == ("document", True)
    assert query["input_type"] == "query"
    assert mixed.get("output_dtype") is None and mixed.get("output_dimension") is None
    assert not np.allclose(fused[0], embedder.embed_images([shoe])[0])


def test_voyage_35_dimension_and_quantized_output(voyage_emu):
    embedder = voyage(
        voyage_emu, model="voyage-multimodal-3.5", dimension=512, embedding_type="ubinary"
    )
    vectors = embedder.embed_texts(["quantize me", "and me"])
    assert vectors.shape == (2, 512)
    assert set(np.unique(np.round(vectors * math.sqrt(512)))) == {-1.0, 1.0}
    body = voyage_emu.requests[0].body
    assert (body["output_dimension"], body["output_dtype"]) == (512, "ubinary")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"embedding_type": "int8"}, "returns float embeddings, not int8"),
        ({"dimension": 512}, "does not offer 512 dimensions"),
        ({"model": "voyage-3-large"}, "unknown Voyage multimodal model"),
    ],
)
def test_voyage_configuration_errors(voyage_emu, options, message):
    with pytest.raises(ConfigError, match=message):
        voyage(voyage_emu, **options)
