"""Decoding what clients send: data URIs, base64 payloads, images and rough token counts."""

from __future__ import annotations

import base64
import binascii
import io
import math
import re
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

_DATA_URI = re.compile(
    r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(;[^,;]*)*?);base64,(?P<data>.*)$", re.DOTALL
)
_TOKEN = re.compile(r"\w+|[^\w\s]")

# Pillow format name -> MIME type, for the formats any of the providers accept.
PIL_MIME = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",
    "PNG": "image/png",
    "GIF": "image/gif",
    "WEBP": "image/webp",
    "BMP": "image/bmp",
    "TIFF": "image/tiff",
    "ICO": "image/x-icon",
}


class MediaError(ValueError):
    """The payload is not what it claims to be (bad base64, bad data URI, not an image)."""


@dataclass(frozen=True)
class ImageInfo:
    """What a provider learns from an image header without decoding its pixels."""

    data: bytes
    format: str  # Pillow's name: "PNG", "JPEG", ...
    mime: str
    width: int
    height: int
    bit_depth: int

    @property
    def size_bytes(self) -> int:
        """Encoded size of the image file."""
        return len(self.data)

    @property
    def pixels(self) -> int:
        """Width times height."""
        return self.width * self.height


def decode_base64(text: str) -> bytes:
    """Strictly decode standard base64 (whitespace tolerated), raising MediaError otherwise."""
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MediaError(f"invalid base64 payload: {exc}") from exc


def parse_data_uri(uri: str) -> tuple[str, bytes]:
    """Split ``data:<mime>;base64,<data>`` into (mime, bytes)."""
    match = _DATA_URI.match(uri)
    if not match:
        raise MediaError("expected a base64 data URI of the form data:<mediatype>;base64,<data>")
    return (match.group("mime") or "").lower(), decode_base64(match.group("data"))


def inspect_image(data: bytes) -> ImageInfo:
    """Read format and size from the image header (Pillow opens lazily, no full decode)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            fmt = image.format or ""
            width, height = image.size
            bits = {"1": 1, "L": 8, "P": 8, "RGB": 8, "RGBA": 8, "I;16": 16, "I": 32, "F": 32}
            depth = bits.get(image.mode, 8)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise MediaError(f"not a decodable image: {exc}") from exc
    return ImageInfo(data, fmt, PIL_MIME.get(fmt, f"image/{fmt.lower()}"), width, height, depth)


def count_tokens(text: str) -> int:
    """Approximate a subword tokenizer: one token per word or punctuation mark.

    Real tokenizers are not available offline; this keeps counts stable and monotonic in length,
    which is what limit and billing tests need.
    """
    return len(_TOKEN.findall(text))


def truncate_tokens(text: str, limit: int, *, from_start: bool = False) -> str:
    """Keep ``limit`` tokens of ``text`` from the end (``from_start``) or the beginning."""
    tokens = _TOKEN.findall(text)
    if len(tokens) <= limit:
        return text
    kept = tokens[-limit:] if from_start else tokens[:limit]
    return " ".join(kept)


def count_words(text: str) -> int:
    """Whitespace-separated words, as Azure's 1-70 word rule counts them."""
    return len(text.split())


def patch_tokens(width: int, height: int, patch: int = 28) -> int:
    """Tokens for a ViT-style model that cuts the image into ``patch`` x ``patch`` tiles."""
    return math.ceil(width / patch) * math.ceil(height / patch)


def megabytes(size: int) -> str:
    """Human-readable size for error messages."""
    return f"{size / (1024 * 1024):.2f} MB"
