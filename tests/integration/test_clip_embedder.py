"""The real CLIP loading path (from_pretrained) on tiny models built locally."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PIL import Image

from mmingest.connectors.embedders import build_embedder
from mmingest.connectors.embedders.clip import ClipEmbedder
from mmingest.schemas.config import ClipEmbedderConfig
from mmingest.schemas.embedding import InputKind
from mmingest.schemas.errors import ModelUnavailable
from tests.support.models import build_tiny_siglip


def test_tiny_clip_loads_through_from_pretrained(clip_embedder, tiny_clip_dir):
    info = clip_embedder.info
    assert (info.provider, info.model, info.dimension) == ("clip", tiny_clip_dir.name, 32)
    assert info.limits.model_image_side == 32
    assert info.limits.max_text_tokens == 77
    assert info.limits.max_batch == 8
    assert clip_embedder.device == "cpu"


def test_vectors_are_normalised_deterministic_and_batch_independent(clip_embedder):
    images = [Image.new("RGB", (40, 30), (i * 40, 10, 200 - i * 30)) for i in range(5)]
    together = clip_embedder.embed_images(images)
    alone = np.vstack([clip_embedder.embed_images([image]) for image in images])
    assert together.shape == (5, 32)
    assert together.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(together, alone, atol=1e-5)
    texts = clip_embedder.embed_texts(["a red circle", "a blue square"], kind=InputKind.QUERY)
    assert texts.shape == (2, 32)
    assert not np.allclose(texts[0], texts[1])
    np.testing.assert_allclose(texts[0], clip_embedder.embed_texts(["a red circle"])[0], atol=1e-5)


def test_long_texts_are_truncated_to_the_model_context(clip_embedder):
    long = "word " * 500
    assert clip_embedder.embed_texts([long]).shape == (1, 32)


def test_empty_inputs_give_empty_matrices(clip_embedder):
    assert clip_embedder.embed_texts([]).shape == (0, 32)
    assert clip_embedder.embed_images([]).shape == (0, 32)


@pytest.mark.parametrize("version", [1, 2])
def test_siglip_models_load_through_the_same_path(tmp_path, version):
    directory = build_tiny_siglip(tmp_path / f"siglip{version}", version=version)
    embedder = build_embedder(ClipEmbedderConfig(model=str(directory), model_name="tiny-siglip"))
    try:
        assert embedder.info.model == "tiny-siglip"
        images = embedder.embed_images([Image.new("RGB", (50, 40), (255, 0, 0))])
        texts = embedder.embed_texts(["hello", "a much longer text about shapes"])
        assert images.shape == (1, 32)
        assert texts.shape == (2, 32)
        np.testing.assert_allclose(np.linalg.norm(texts, axis=1), 1.0, rtol=1e-5)
    finally:
        embedder.close()


def test_offline_without_a_cached_model_fails_fast_with_instructions(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    started = time.monotonic()
    with pytest.raises(ModelUnavailable) as caught:
        ClipEmbedder(ClipEmbedderConfig(model="openai/clip-vit-base-patch32"))
    assert time.monotonic() - started < 15
    message = caught.value.message
    assert "'openai/clip-vit-base-patch32'" in message
    assert "not in the local cache" in message
    assert (
        "hf download openai/clip-vit-base-patch32 --local-dir ./models/clip-vit-base-patch32"
        in message
    )
    assert "MMINGEST_EMBEDDER__MODEL=./models/clip-vit-base-patch32" in message


def test_unreachable_hub_fails_fast_too(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-cache"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: nothing listens
    started = time.monotonic()
    with pytest.raises(ModelUnavailable, match=r"127\.0\.0\.1:9 is unreachable"):
        ClipEmbedder(ClipEmbedderConfig(model="org/some-clip"))
    assert time.monotonic() - started < 15


def test_a_missing_local_directory_is_named(tmp_path):
    with pytest.raises(ModelUnavailable, match="does not exist"):
        ClipEmbedder(ClipEmbedderConfig(model=str(tmp_path / "nowhere")))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelUnavailable, match=r"has no config\.json"):
        ClipEmbedder(ClipEmbedderConfig(model=str(tmp_path / "empty")))


def test_a_model_that_is_not_a_dual_encoder_is_refused(tmp_path):
    from transformers import BertConfig, BertModel

    from tests.support.models import _char_tokenizer

    directory = tmp_path / "bert"
    config = BertConfig(
        vocab_size=200,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=4,
        intermediate_size=64,
    )
    BertModel(config).save_pretrained(directory)
    _char_tokenizer(directory).save_pretrained(directory)
    with pytest.raises(ModelUnavailable, match="not a CLIP-family dual encoder"):
        ClipEmbedder(ClipEmbedderConfig(model=str(directory)))
