"""The provider embedders' shared machinery, without a network: inputs, plans, vectors, errors."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from PIL import Image

from mmingest.connectors.embedders.remote import EncodedImage, Item, RemoteEmbedder, Reply
from mmingest.connectors.embedders.remote.errors import for_status, retry_after, scrub
from mmingest.connectors.embedders.remote.inputs import encode_image, fit_text
from mmingest.connectors.embedders.remote.vectors import to_vectors
from mmingest.schemas.embedding import EmbedderInfo, EmbedderLimits, InputKind
from mmingest.schemas.errors import (
    AuthenticationFailed,
    ConfigError,
    InputRejected,
    InvalidInput,
    ProviderUnavailable,
    RateLimited,
)
from tests.support.providers import picture


def test_texts_are_cut_to_words_and_characters_or_refused():
    words = EmbedderLimits(max_text_words=3)
    assert fit_text("  one two three four  ", words, provider="p") == "one two three"
    chars = EmbedderLimits(max_text_chars=20)
    assert fit_text("abcdefghi abcdefghij abc", chars, provider="p") == "abcdefghi abcdefghij"
    # A word boundary far from the limit would waste the budget: cut at the limit instead.
    assert fit_text("alpha beta gamma delta", chars, provider="p") == "alpha beta gamma del"
    assert len(fit_text("x" * 50, chars, provider="p")) == 20
    strict = EmbedderLimits(max_text_words=3, truncate_text=False)
    with pytest.raises(InvalidInput, match="4 words; p accepts at most 3"):
        fit_text("one two three four", strict, provider="p")
    with pytest.raises(InvalidInput, match="empty text"):
        fit_text(" \n ", words, provider="p")


def _decoded(encoded: EncodedImage) -> Image.Image:
    return Image.open(io.BytesIO(encoded.data))


def test_images_are_encoded_within_sides_pixels_and_bytes():
    limits = EmbedderLimits(
        image_formats=("JPEG", "PNG"), min_image_side=11, max_image_side=100, max_image_bytes=9_000
    )
    small = encode_image(picture(1, size=(4, 30)), limits, provider="p")
    assert (small.format, small.mime) == ("JPEG", "image/jpeg")
    assert min(_decoded(small).size) >= 11
    large = encode_image(picture(2, size=(400, 300)), limits, provider="p")
    assert max(large.width, large.height) <= 100
    assert len(large.data) <= 9_000  # noise needs lower quality, then a smaller image
    assert _decoded(large).size == (large.width, large.height)
    pixels = encode_image(
        picture(3, size=(300, 300)), EmbedderLimits(max_image_pixels=10_000), provider="p"
    )
    assert pixels.pixels <= 10_000 and pixels.format == "PNG"
    rgba = Image.new("RGBA", (20, 20), (255, 0, 0, 128))
    assert _decoded(encode_image(rgba, limits, provider="p")).mode == "RGB"
    assert encode_image(picture(4), limits, provider="p").data_uri().startswith("data:image/jpeg;")


def test_an_image_that_cannot_fit_is_refused():
    limits = EmbedderLimits(image_formats=("JPEG",), min_image_side=50, max_image_bytes=200)
    with pytest.raises(InvalidInput, match="cannot be encoded under p's limit of 200 bytes"):
        encode_image(picture(5, size=(60, 60)), limits, provider="p")


def test_typed_embeddings_become_unit_float32_rows():
    floats = to_vectors([[3.0, 4.0]], count=1, dimension=2, embedding_type="float", provider="p")
    np.testing.assert_allclose(floats, [[0.6, 0.8]])
    int8 = to_vectors([[-128, 127]], count=1, dimension=2, embedding_type="int8", provider="p")
    uint8 = to_vectors([[0, 255]], count=1, dimension=2, embedding_type="uint8", provider="p")
    np.testing.assert_allclose(int8, uint8)
    # 0b10100000 as ubinary is 160, as (offset) binary 160 - 128 = 32.
    bits = [1, -1, 1, -1, -1, -1, -1, -1]
    expected = np.array([bits], dtype=np.float32) / math.sqrt(8)
    for kind, byte in (("ubinary", 160), ("binary", 32)):
        unpacked = to_vectors([[byte]], count=1, dimension=8, embedding_type=kind, provider="p")
        np.testing.assert_allclose(unpacked, expected, atol=1e-7)


@pytest.mark.parametrize(
    ("rows", "count"),
    [([[1.0, 0.0]], 2), ([[1.0, 0.0, 0.0]], 1), (None, 1), ([["x", "y"]], 1)],
)
def test_a_malformed_reply_is_retryable(rows, count):
    with pytest.raises(ProviderUnavailable):
        to_vectors(rows, count=count, dimension=2, embedding_type="float", provider="p")


def test_retry_after_reads_seconds_and_http_dates():
    assert retry_after({"Retry-After": "7"}) == 7.0
    assert retry_after({"retry-after": "1.5"}) == 1.5
    assert 0 <= retry_after({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}) <= 0.001
    assert retry_after({"Retry-After": "soon"}) is None
    assert retry_after({}) is None and retry_after(None) is None


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (401, AuthenticationFailed),
        (403, AuthenticationFailed),
        (429, RateLimited),
        (500, ProviderUnavailable),
        (503, ProviderUnavailable),
        (408, ProviderUnavailable),
        (None, ProviderUnavailable),
        (404, ConfigError),
        (400, InputRejected),
        (413, InputRejected),
    ],
)
def test_statuses_map_onto_the_error_families(status, kind):
    error = for_status("p", status, "boom", headers={"Retry-After": "3"}, auth_hint="check KEY")
    assert type(error) is kind
    if kind is RateLimited:
        assert error.retry_after == 3.0
    if kind is AuthenticationFailed:
        assert error.message.endswith("check KEY")


def test_secrets_echoed_by_a_provider_are_scrubbed():
    error = for_status(
        "p", 401, "Invalid API key: sk-canary-123 (sk-canary-123)", secrets=["sk-canary-123"]
    )
    assert "sk-canary-123" not in error.message
    assert error.message.count("[REDACTED]") == 2
    assert len(scrub("x " * 2000, [])) <= 500


class Planned(RemoteEmbedder):
    """A provider stand-in that records the requests the base class plans."""

    provider = "planned"

    def __init__(self, limits: EmbedderLimits) -> None:
        super().__init__(EmbedderInfo(provider="planned", model="m", dimension=2, limits=limits))
        self.requests: list[list[Item]] = []

    def _call(self, items: list[Item], kind: InputKind) -> Reply:
        self.requests.append(items)
        return Reply([[1.0, 0.0]] * len(items), billed={"units": len(items)})

    def _image_tokens(self, image: EncodedImage) -> int:
        return image.pixels // 100

    def close(self) -> None:
        pass


def test_calls_are_split_into_requests_within_every_budget():
    by_count = Planned(EmbedderLimits(max_batch=4))
    by_count.embed_texts([f"t{i}" for i in range(10)])
    assert [len(r) for r in by_count.requests] == [4, 4, 2]
    by_images = Planned(EmbedderLimits(max_batch=50, max_request_images=3))
    by_images.embed_images([picture(i, (10, 10)) for i in range(7)])
    assert [len(r) for r in by_images.requests] == [3, 3, 1]
    by_tokens = Planned(EmbedderLimits(max_batch=50, max_request_tokens=10))
    by_tokens.embed_images([picture(i, (20, 20)) for i in range(5)])  # 4 tokens each
    assert [len(r) for r in by_tokens.requests] == [2, 2, 1]
    by_bytes = Planned(
        EmbedderLimits(max_batch=50, max_request_image_bytes=1, image_formats=("PNG",))
    )
    by_bytes.embed_images([picture(i, (8, 8)) for i in range(3)])
    assert [len(r) for r in by_bytes.requests] == [1, 1, 1]  # an oversized one still goes alone
    assert by_bytes.usage().billed_units == {"units": 3}
    assert by_bytes.usage().requests == 3
    assert Planned(EmbedderLimits()).embed_texts([]).shape == (0, 2)
