import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from mmingest.pipelines.images import decode_image, fit_image
from mmingest.pipelines.samples import encode
from mmingest.schemas.embedding import EmbedderLimits
from mmingest.schemas.errors import CorruptImage, DecompressionBomb, EmptyObject, UnsupportedFormat

MAX = 50_000_000


def picture(size=(64, 48), color=(200, 30, 30), mode="RGB") -> Image.Image:
    return Image.new(mode, size, color)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF"])
def test_every_supported_format_decodes_to_rgb(fmt):
    decoded = decode_image(encode(picture(), fmt), max_pixels=MAX)
    assert decoded.pixels.mode == "RGB"
    assert decoded.pixels.size == (64, 48)
    assert (decoded.width, decoded.height, decoded.format) == (64, 48, fmt)
    red, green, _ = decoded.pixels.getpixel((10, 10))
    assert red > 150 and green < 90


def test_animated_gif_contributes_its_first_frame():
    frames = [picture(color=(255, 0, 0)), picture(color=(0, 0, 255))]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=100)
    pixel = decode_image(buffer.getvalue(), max_pixels=MAX).pixels.getpixel((5, 5))
    assert pixel[0] > 200 and pixel[2] < 50


def test_exif_orientation_is_applied():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    buffer = io.BytesIO()
    picture((80, 20)).save(buffer, format="JPEG", exif=exif)
    decoded = decode_image(buffer.getvalue(), max_pixels=MAX)
    assert decoded.pixels.size == (20, 80)
    assert (decoded.width, decoded.height) == (20, 80)


@pytest.mark.parametrize(
    ("mode", "color"),
    [("RGBA", (255, 0, 0, 0)), ("LA", (0, 0)), ("P", None)],
)
def test_transparency_is_flattened_onto_white(mode, color):
    if mode == "P":
        image = Image.new("P", (10, 10), 0)
        image.putpalette([0, 0, 0] * 256)
        image.info["transparency"] = 0
    else:
        image = Image.new(mode, (10, 10), color)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    assert decode_image(buffer.getvalue(), max_pixels=MAX).pixels.getpixel((3, 3)) == (
        255,
        255,
        255,
    )


def test_sixteen_bit_png_is_scaled_not_clipped():
    array = np.full((8, 8), 32768, dtype=np.uint16)
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    gray = decode_image(buffer.getvalue(), max_pixels=MAX).pixels.getpixel((1, 1))
    assert 120 <= gray[0] <= 135  # mid-gray, not white


def test_cmyk_jpeg_becomes_rgb():
    data = encode(Image.new("CMYK", (16, 16), (0, 255, 255, 0)), "JPEG")
    pixel = decode_image(data, max_pixels=MAX).pixels.getpixel((4, 4))
    assert pixel[0] > 200 and pixel[1] < 60


def test_empty_bytes_are_reported_as_empty():
    with pytest.raises(EmptyObject, match="0 bytes"):
        decode_image(b"", max_pixels=MAX)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"hello, I am a text file\n", "looks like text"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj", "is a PDF"),
        (bytes(range(256)) * 4, "not in a readable image format"),
    ],
)
def test_non_images_get_a_specific_reason(data, reason):
    with pytest.raises(UnsupportedFormat, match=reason):
        decode_image(data, max_pixels=MAX)


def test_truncated_jpeg_is_corrupt():
    data = encode(picture((256, 256)), "JPEG")
    with pytest.raises(CorruptImage, match="truncated"):
        decode_image(data[: len(data) // 2], max_pixels=MAX)


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


def test_decompression_bomb_is_refused_before_decoding():
    with pytest.raises(DecompressionBomb, match="declares 10,000,000,000 pixels"):
        decode_image(_png_header_only(100_000, 100_000), max_pixels=MAX)
    with pytest.raises(DecompressionBomb, match="declares 10000x9000 = 90,000,000 pixels"):
        decode_image(_png_header_only(10_000, 9_000), max_pixels=MAX)
    with pytest.raises(DecompressionBomb, match="over the limit of 1,000"):
        decode_image(_png_header_only(100, 100), max_pixels=1_000)


def test_fit_image_respects_each_limit():
    big = picture((4000, 3000))
    assert fit_image(big, EmbedderLimits(model_image_side=224)).size == (298, 224)
    assert fit_image(big, EmbedderLimits(max_image_side=1000)).size == (1000, 750)
    fitted = fit_image(big, EmbedderLimits(max_image_pixels=1_000_000))
    assert fitted.size[0] * fitted.size[1] <= 1_000_000
    assert fit_image(picture((5, 8)), EmbedderLimits(min_image_side=10)).size == (10, 16)
    small = picture((100, 80))
    assert fit_image(small, EmbedderLimits(model_image_side=224)) is small


def test_large_jpeg_decodes_at_reduced_size_for_small_models():
    data = encode(picture((3000, 2000)), "JPEG")
    decoded = decode_image(data, max_pixels=MAX, limits=EmbedderLimits(model_image_side=224))
    assert decoded.pixels.size == (336, 224)
    assert (decoded.width, decoded.height) == (3000, 2000)
