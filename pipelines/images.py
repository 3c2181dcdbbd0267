"""Decode image bytes safely into RGB and fit them to an embedder's input limits."""

from __future__ import annotations

import io
import math
import re
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from mmingest.pipelines.captions import caption_from_metadata
from mmingest.schemas.embedding import EmbedderLimits
from mmingest.schemas.errors import CorruptImage, DecompressionBomb, EmptyObject, UnsupportedFormat

READABLE_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "GIF", "BMP", "TIFF"})
_FLATTEN_BACKGROUND = (255, 255, 255)
_EXIF_ORIENTATION = 0x0112
_IMAGE_SIGNATURES = (
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",
    b"GIF87a",
    b"GIF89a",
    b"II*\x00",
    b"MM\x00*",
)


def _describe_bytes(data: bytes) -> str:
    head = data[:64]
    if head.lstrip().startswith((b"{", b"[", b"<")) or all(
        32 <= b < 127 or b in b"\r\n\t" for b in head
    ):
        return "the content looks like text, not an image"
    if head.startswith(b"%PDF"):
        return "the content is a PDF, not an image"
    return "the content is not in a readable image format"


def _bomb_message(declared: str, max_pixels: int) -> str:
    return (
        f"the image declares {declared} pixels, over the limit of {max_pixels:,} "
        "(ingest.max_image_pixels): refused as a possible decompression bomb"
    )


def _bomb(error: Exception, max_pixels: int) -> DecompressionBomb:
    # Pillow's own guard fired first (its limit is fixed); report it in our terms.
    found = re.search(r"\((\d+) pixels\)", str(error))
    declared = f"{int(found.group(1)):,}" if found else "too many"
    return DecompressionBomb(_bomb_message(declared, max_pixels))


def open_image(data: bytes, *, max_pixels: int) -> Image.Image:
    """Open image bytes lazily, refusing empty data, unknown formats and decompression bombs.

    Only the header is parsed here: the pixel count is checked before any pixel is decoded.
    """
    if not data:
        raise EmptyObject("the object is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as error:
        raise _bomb(error, max_pixels) from error
    except UnidentifiedImageError as error:
        if data.startswith(_IMAGE_SIGNATURES) or (data[:4], data[8:12]) == (b"RIFF", b"WEBP"):
            raise CorruptImage(
                "the image has a valid signature but an invalid header (e.g. a zero width or "
                "height, or a damaged header chunk)"
            ) from error
        raise UnsupportedFormat(
            f"{_describe_bytes(data)} (expected JPEG, PNG, WebP, GIF, BMP or TIFF)"
        ) from error
    except (OSError, SyntaxError, ValueError) as error:
        raise CorruptImage(f"the image header is damaged or truncated: {error}") from error
    if image.format not in READABLE_FORMATS:
        raise UnsupportedFormat(
            f"{image.format} images are not supported (expected JPEG, PNG, WebP, GIF, BMP or TIFF)"
        )
    width, height = image.size
    if width <= 0 or height <= 0:
        raise CorruptImage(f"the image declares an empty size {width}x{height}")
    if width * height > max_pixels:
        raise DecompressionBomb(_bomb_message(f"{width}x{height} = {width * height:,}", max_pixels))
    return image


def _to_rgb(image: Image.Image) -> Image.Image:
    """RGB pixels: alpha flattened onto white, 16-bit and float images scaled to 8 bits."""
    if image.mode == "RGB":
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        array = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or array.max(initial=0) > 255 else 255.0
        scaled = np.clip(array / top * 255.0, 0, 255).astype(np.uint8)
        return Image.fromarray(scaled, mode="L").convert("RGB")
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, _FLATTEN_BACKGROUND)
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _rotated_quarter_turn(image: Image.Image) -> bool:
    try:
        return image.getexif().get(_EXIF_ORIENTATION) in (5, 6, 7, 8)
    except (OSError, SyntaxError, ValueError):
        return False


@dataclass(frozen=True)
class DecodedImage:
    """Pixels ready for an embedder, plus what the file said about itself."""

    pixels: Image.Image
    width: int
    height: int
    format: str
    description: str | None


def decode_image(
    data: bytes, *, max_pixels: int, limits: EmbedderLimits | None = None
) -> DecodedImage:
    """Decode ``data`` to an upright RGB image fitted to ``limits``.

    Animated images contribute their first frame. EXIF orientation is applied. The embedded
    XMP/EXIF description is read before the metadata is dropped. Raises
    :class:`~mmingest.schemas.errors.InvalidInput` subclasses with a specific reason for empty,
    unreadable, truncated or oversized images.
    """
    image = open_image(data, max_pixels=max_pixels)
    width, height = image.size
    image_format = str(image.format)
    if limits is not None and limits.model_image_side and image.format in ("JPEG", "MPO"):
        # Let the JPEG decoder scale down by a power of two while decoding (DCT scaling, an
        # area average): several times cheaper for photos, never below the model's input.
        side = limits.model_image_side
        image.draft("RGB", (side, side))
    # Decode every pixel before anything reads metadata: reading a PNG's EXIF loads the image
    # and swallows a decode error, after which load() has nothing left to report.
    with _corrupt_as_invalid(max_pixels):
        image.seek(0)
        image.load()
    if _rotated_quarter_turn(image):
        width, height = height, width
    description = caption_from_metadata(image)
    with _corrupt_as_invalid(max_pixels):
        pixels = normalize_image(image, limits)
    return DecodedImage(pixels, width, height, image_format, description)


@contextmanager
def _corrupt_as_invalid(max_pixels: int) -> Iterator[None]:
    try:
        yield
    except Image.DecompressionBombError as error:
        raise _bomb(error, max_pixels) from error
    except (OSError, SyntaxError, ValueError, EOFError, zlib.error) as error:
        raise CorruptImage(f"the image data is damaged or truncated: {error}") from error


def normalize_image(image: Image.Image, limits: EmbedderLimits | None = None) -> Image.Image:
    """An upright RGB copy of a loaded image, fitted to ``limits`` when given."""
    rgb = _to_rgb(ImageOps.exif_transpose(image) or image)
    return fit_image(rgb, limits) if limits is not None else rgb


def fit_image(image: Image.Image, limits: EmbedderLimits) -> Image.Image:
    """Resize ``image`` (keeping its aspect ratio) until it satisfies ``limits``.

    Larger than the model's input side: scaled so the short side equals it, which is the
    resize a CLIP processor does first (so it then has nothing left to do). Over a pixel or
    side limit: scaled down to fit. Under a minimum side: scaled up. Never dropped.
    """
    width, height = image.size
    scale = 1.0
    if limits.model_image_side and min(width, height) > limits.model_image_side:
        scale = limits.model_image_side / min(width, height)
    if limits.max_image_side and max(width, height) * scale > limits.max_image_side:
        scale = limits.max_image_side / max(width, height)
    if limits.max_image_pixels and width * height * scale * scale > limits.max_image_pixels:
        scale = (limits.max_image_pixels / (width * height)) ** 0.5
    if limits.min_image_side and min(width, height) * scale < limits.min_image_side:
        scale = limits.min_image_side / min(width, height)
    if scale == 1.0:
        return image
    rounding = math.floor if scale < 1 else math.ceil  # never overshoot a limit
    size = (max(1, rounding(width * scale)), max(1, rounding(height * scale)))
    return image.resize(size, Image.Resampling.BICUBIC, reducing_gap=3.0 if scale < 1 else None)
