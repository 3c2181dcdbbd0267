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


def deep_json(depth: int = 10_000) -> str:
    """A JSON object whose ``caption`` value nests ``depth`` arrays (about 2 bytes a level)."""
    return '{"id": "deep", "caption": ' + "[" * depth + "]" * depth + "}"


def raw_pdf(objects: list[bytes]) -> bytes:
    """A PDF assembled from raw object bodies (object 1 is the catalog), with a valid xref."""
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    ).encode()
    return out


def lying_count_pdf(count: int = 5) -> bytes:
    """One real page under a page tree whose /Count claims ``count``."""
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            f"<< /Type /Pages /Kids [3 0 R] /Count {count} >>".encode(),
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] >>",
        ]
    )


def cyclic_page_tree_pdf() -> bytes:
    """A page tree that lists itself among its kids."""
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R 2 0 R] /Count 3 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] >>",
        ]
    )


def _png_with_header(width: int, height: int) -> bytearray:
    data = bytearray(encode(picture("red"), "PNG"))
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return data


def zero_width_png() -> bytes:
    """A PNG whose IHDR (with a valid CRC) declares a width of 0."""
    return bytes(_png_with_header(0, 64))


def corrupt_idat_png() -> bytes:
    """A PNG whose pixel data (IDAT) is damaged while its header is intact."""
    data = bytearray(encode(picture("blue"), "PNG"))
    start = data.find(b"IDAT") + 12
    for index in range(start, start + 12):
        data[index] ^= 0xFF
    return bytes(data)
