"""Generated bad and hostile inputs (nothing is downloaded)."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image

from mmingest.pipelines.samples import SampleImage, build_pdf, draw, encode


def picture(color: str = "red", shape: str = "circle", background: str = "white") -> Image.Image:
    """A small sample picture."""
    return draw(SampleImage(shape, color, background), (96, 72))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG declaring ``width`` x ``height`` pixels with no pixel data: a decompression bomb."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


def truncated_jpeg() -> bytes:
    """A JPEG cut after a third of its bytes."""
    data = encode(picture(), "JPEG")
    return data[: len(data) // 3]


def cmyk_jpeg() -> bytes:
    """A CMYK JPEG (as print workflows produce)."""
    return encode(Image.new("CMYK", (48, 32), (0, 255, 255, 0)), "JPEG")


def png_16_bit() -> bytes:
    """A 16-bit grayscale PNG."""
    buffer = io.BytesIO()
    Image.fromarray(np.full((24, 24), 40000, dtype=np.uint16)).save(buffer, format="PNG")
    return buffer.getvalue()


def animated_gif() -> bytes:
    """A two-frame animated GIF (red, then blue)."""
    frames = [Image.new("RGB", (32, 32), (255, 0, 0)), Image.new("RGB", (32, 32), (0, 0, 255))]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=50)
    return buffer.getvalue()


def simple_pdf(pages: int = 2, *, title: str = "Test document") -> bytes:
    """A valid PDF with ``pages`` pages of text."""
    return build_pdf(
        [
            (f"Page {n}", [f"This is page {n} of {title}."], (200, 30, 30))
            for n in range(1, pages + 1)
        ],
        title=title,
    )


def encrypted_pdf(password: str = "secret") -> bytes:
    """A valid PDF encrypted with a user password."""
    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(simple_pdf()))
    writer = pypdf.PdfWriter()
    for page in reader.pages:
        writer.add_page(page)
    writer.encrypt(password, algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def truncated_pdf() -> bytes:
    """A PDF cut in the middle of its first object."""
    return simple_pdf()[:60]


def zero_page_pdf() -> bytes:
    """A structurally valid PDF with no pages."""
    return build_pdf([], title="empty")


def huge_page_pdf() -> bytes:
    """A PDF whose page box is 200 x 200 inches (rendered within the pixel budget)."""
    data = simple_pdf(1)
    return data.replace(b"/MediaBox [0 0 612 792]", b"/MediaBox [0 0 14400 14400]")
