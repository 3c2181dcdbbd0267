"""Inputs as a provider receives them: texts fitted to the text limits, images encoded to fit.

Both functions run before any request is built, so an input over a limit either becomes one
the provider accepts (a cut text, a re-encoded or smaller image) or is refused here as one
:class:`~mmingest.schemas.errors.InvalidInput`, without a request being sent.
"""

from __future__ import annotations

import base64
import io
import math
import re
from dataclasses import dataclass

from PIL import Image

from mmingest.schemas.embedding import EmbedderLimits
from mmingest.schemas.errors import InvalidInput

_MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}
_MIME_FALLBACK = "image/{}"
_JPEG_QUALITIES = (90, 80, 70)
_SHRINK = 0.85  # per step once lowering the quality is not enough
_MAX_SHRINK_STEPS = 40
_TOKEN = re.compile(r"\w+|[^\w\s]")
# A word boundary this close to a character limit is a better cut than the limit itself.
_WORD_BOUNDARY_SLACK = 0.9


@dataclass(frozen=True)
class EncodedImage:
    """An image encoded for a provider request."""

    data: bytes
    format: str
    width: int
    height: int

    @property
    def mime(self) -> str:
        """MIME type of :attr:`data`."""
        return _MIME.get(self.format, _MIME_FALLBACK.format(self.format.lower()))

    @property
    def pixels(self) -> int:
        """Width times height."""
        return self.width * self.height

    def base64(self) -> str:
        """The bytes as standard base64."""
        return base64.b64encode(self.data).decode("ascii")

    def data_uri(self) -> str:
        """A ``data:<mime>;base64,...`` URI, as Cohere, Voyage and DashScope take images."""
        return f"data:{self.mime};base64,{self.base64()}"


Part = str | EncodedImage
"""One piece of an input: a text or an encoded image."""


def fit_text(text: str, limits: EmbedderLimits, *, provider: str) -> str:
    """``text`` within the word and character limits: cut, or refused when cutting is off."""
    text = text.strip()
    if not text:
        raise InvalidInput(f"{provider} cannot embed an empty text")
    if limits.max_text_words is not None:
        words = text.split()
        if len(words) > limits.max_text_words:
            if not limits.truncate_text:
                raise InvalidInput(
                    f"the text has {len(words)} words; {provider} accepts at most "
                    f"{limits.max_text_words}"
                )
            text = " ".join(words[: limits.max_text_words])
    if limits.max_text_chars is not None and len(text) > limits.max_text_chars:
        if not limits.truncate_text:
            raise InvalidInput(
                f"the text has {len(text):,} characters; {provider} accepts at most "
                f"{limits.max_text_chars:,}"
            )
        cut = text[: limits.max_text_chars]
        boundary = cut.rfind(" ")
        if boundary >= limits.max_text_chars * _WORD_BOUNDARY_SLACK:
            cut = cut[:boundary]
        text = cut.rstrip()
    return text


def estimate_text_tokens(text: str) -> int:
    """A tokenizer-free token estimate: words and marks, or 4 characters a token if more."""
    return max(len(_TOKEN.findall(text)), math.ceil(len(text) / 4), 1)


def _scale_for_geometry(width: int, height: int, limits: EmbedderLimits) -> float:
    scale = 1.0
    if limits.max_image_side and max(width, height) > limits.max_image_side:
        scale = limits.max_image_side / max(width, height)
    if limits.max_image_pixels and width * height * scale * scale > limits.max_image_pixels:
        scale = math.sqrt(limits.max_image_pixels / (width * height))
    if limits.min_image_side and min(width, height) * scale < limits.min_image_side:
        scale = limits.min_image_side / min(width, height)
    return scale


def _resized(image: Image.Image, scale: float) -> Image.Image:
    rounding = math.floor if scale < 1 else math.ceil  # never overshoot a limit
    size = (max(1, rounding(image.width * scale)), max(1, rounding(image.height * scale)))
    return image.resize(size, Image.Resampling.BICUBIC)


def _encode(image: Image.Image, fmt: str, quality: int) -> bytes:
    buffer = io.BytesIO()
    if fmt == "JPEG":
        image.save(buffer, "JPEG", quality=quality, optimize=False)
    else:
        image.save(buffer, fmt)
    return buffer.getvalue()


def encode_image(image: Image.Image, limits: EmbedderLimits, *, provider: str) -> EncodedImage:
    """Encode ``image`` in the provider's preferred format, within its size and byte limits.

    The pipeline has normally fitted sides and pixels already; this repeats the geometry for
    other callers (a query image). Over the byte limit, a JPEG is re-encoded at lower quality
    and then scaled down step by step: an image is made smaller, never dropped.
    """
    if image.mode != "RGB":
        image = image.convert("RGB")
    scale = _scale_for_geometry(image.width, image.height, limits)
    if scale != 1.0:
        image = _resized(image, scale)
    fmt = limits.image_formats[0] if limits.image_formats else "PNG"
    qualities = _JPEG_QUALITIES if fmt == "JPEG" else (0,)
    limit = limits.max_image_bytes
    for _ in range(_MAX_SHRINK_STEPS):
        for quality in qualities:
            data = _encode(image, fmt, quality)
            if limit is None or len(data) <= limit:
                return EncodedImage(data, fmt, image.width, image.height)
        shrunk = _resized(image, _SHRINK)
        if limits.min_image_side and min(shrunk.size) < limits.min_image_side:
            break
        image = shrunk
    raise InvalidInput(
        f"the image cannot be encoded under {provider}'s limit of {limit:,} bytes "
        "without going below its minimum size"
    )
