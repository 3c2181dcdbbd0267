"""Sample data for the quickstart and the tests: captioned images, PDFs and a product catalog.

Everything is generated (deterministically) rather than shipped, so the repository stays small
and every format the pipeline reads is exercised.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image, ImageDraw

COLORS = {
    "red": (220, 30, 30),
    "green": (30, 170, 60),
    "blue": (30, 70, 220),
    "yellow": (240, 210, 20),
    "purple": (130, 40, 170),
    "orange": (245, 130, 20),
}
BACKGROUNDS = {"white": (250, 250, 250), "black": (15, 15, 15), "gray": (128, 128, 128)}
SHAPES = ("circle", "square", "triangle", "cross")
IMAGE_FORMATS = (
    ("jpg", "JPEG"),
    ("png", "PNG"),
    ("webp", "WEBP"),
    ("gif", "GIF"),
    ("bmp", "BMP"),
    ("tiff", "TIFF"),
)
_EXIF_IMAGE_DESCRIPTION = 0x010E


@dataclass(frozen=True)
class SampleImage:
    """One generated picture and its caption."""

    shape: str
    color: str
    background: str

    @property
    def caption(self) -> str:
        """What the picture shows."""
        return f"a {self.color} {self.shape} on a {self.background} background"

    @property
    def stem(self) -> str:
        """A file name without extension."""
        return f"{self.color}-{self.shape}-on-{self.background}"


def draw(sample: SampleImage, size: tuple[int, int] = (256, 192)) -> Image.Image:
    """Render ``sample`` as an RGB picture."""
    image = Image.new("RGB", size, BACKGROUNDS[sample.background])
    canvas = ImageDraw.Draw(image)
    width, height = size
    box = (width * 0.25, height * 0.2, width * 0.75, height * 0.8)
    fill = COLORS[sample.color]
    if sample.shape == "circle":
        canvas.ellipse(box, fill=fill)
    elif sample.shape == "square":
        canvas.rectangle(box, fill=fill)
    elif sample.shape == "triangle":
        canvas.polygon(
            [(box[0], box[3]), (box[2], box[3]), ((box[0] + box[2]) / 2, box[1])], fill=fill
        )
    else:
        bar = (box[2] - box[0]) / 5
        middle_x, middle_y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        canvas.rectangle((middle_x - bar, box[1], middle_x + bar, box[3]), fill=fill)
        canvas.rectangle((box[0], middle_y - bar, box[2], middle_y + bar), fill=fill)
    return image


def sample_images(count: int) -> list[SampleImage]:
    """``count`` distinct samples, cycling through colors, shapes and backgrounds."""
    combos = [
        SampleImage(shape, color, background)
        for background in BACKGROUNDS
        for color in COLORS
        for shape in SHAPES
    ]
    return combos[:count]


def encode(image: Image.Image, pil_format: str, *, description: str | None = None) -> bytes:
    """``image`` encoded as ``pil_format``, with an EXIF description when given."""
    buffer = io.BytesIO()
    options: dict[str, object] = {}
    if description is not None:
        exif = Image.Exif()
        exif[_EXIF_IMAGE_DESCRIPTION] = description
        options["exif"] = exif
    image.save(buffer, format=pil_format, **options)
    return buffer.getvalue()


def write_images(directory: Path, count: int = 24) -> dict[str, str]:
    """Write ``count`` images with captions into ``directory``; returns file name -> caption.

    Formats cycle through JPEG, PNG, WebP, GIF, BMP and TIFF. Captions come from ``.txt``
    sidecars, ``.json`` sidecars, or (for JPEGs) the EXIF ImageDescription, so every caption
    source is represented.
    """
    directory.mkdir(parents=True, exist_ok=True)
    captions: dict[str, str] = {}
    for index, sample in enumerate(sample_images(count)):
        suffix, pil_format = IMAGE_FORMATS[index % len(IMAGE_FORMATS)]
        name = f"{sample.stem}.{suffix}"
        embedded = pil_format == "JPEG" and index % 2 == 0
        image = draw(sample)
        data = encode(image, pil_format, description=sample.caption if embedded else None)
        (directory / name).write_bytes(data)
        if not embedded:
            if index % 2:
                sidecar = {"caption": sample.caption, "source": "mmingest samples"}
                (directory / f"{sample.stem}.json").write_text(json.dumps(sidecar) + "\n")
            else:
                (directory / f"{sample.stem}.txt").write_text(sample.caption + "\n")
        captions[name] = sample.caption
    return captions


def _pdf_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def build_pdf(pages: list[tuple[str, list[str], tuple[int, int, int]]], *, title: str) -> bytes:
    """A minimal valid PDF: per page a heading, body lines and a colored rectangle.

    ``pages`` holds (heading, lines, rgb) per page. Text uses the standard Helvetica font, so
    any PDF reader extracts it.
    """
    objects: list[bytes] = []

    def add(body: str | bytes) -> int:
        objects.append(body.encode("latin-1") if isinstance(body, str) else body)
        return len(objects)

    catalog = add("")  # placeholders, filled once the page ids are known
    page_tree = add("")
    font = add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    page_ids = []
    for heading, lines, (red, green, blue) in pages:
        commands = [f"BT /F1 22 Tf 72 720 Td ({_pdf_text(heading)}) Tj ET"]
        for row, line in enumerate(lines):
            commands.append(f"BT /F1 12 Tf 72 {690 - 16 * row} Td ({_pdf_text(line)}) Tj ET")
        commands.append(
            f"{red / 255:.3f} {green / 255:.3f} {blue / 255:.3f} rg 72 200 300 200 re f"
        )
        stream = "\n".join(commands).encode("latin-1")
        content = add(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        page_ids.append(
            add(
                f"<< /Type /Page /Parent {page_tree} 0 R /MediaBox [0 0 612 792] "
                f"/Contents {content} 0 R /Resources << /Font << /F1 {font} 0 R >> >> >>"
            )
        )
    objects[catalog - 1] = f"<< /Type /Catalog /Pages {page_tree} 0 R >>".encode()
    kids = " ".join(f"{page} 0 R" for page in page_ids)
    objects[page_tree - 1] = f"<< /Type /Pages /Kids [{kids}] /Count {len(page_ids)} >>".encode()
    info = add(f"<< /Title ({_pdf_text(title)}) /Producer (mmingest samples) >>")

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\n" % (
        len(objects) + 1,
        catalog,
        info,
    )
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def write_pdfs(directory: Path) -> list[str]:
    """Write three multi-page PDFs (a guide, a catalog, a report); returns their names."""
    directory.mkdir(parents=True, exist_ok=True)
    documents = {
        "shapes-guide.pdf": (
            "A guide to shapes",
            [
                (
                    "Circles",
                    ["A circle is round.", "Every point is equally far from its centre."],
                    COLORS["red"],
                ),
                (
                    "Squares",
                    ["A square has four equal sides.", "Its corners are right angles."],
                    COLORS["blue"],
                ),
                (
                    "Triangles",
                    ["A triangle has three sides.", "Its angles add up to 180 degrees."],
                    COLORS["green"],
                ),
            ],
        ),
        "color-catalog.pdf": (
            "Color catalog",
            [
                ("Warm colors", ["Red, orange and yellow feel warm."], COLORS["orange"]),
                ("Cool colors", ["Blue, green and purple feel cool."], COLORS["purple"]),
            ],
        ),
        "quarterly-report.pdf": (
            "Quarterly report",
            [
                ("Summary", ["Sales of yellow umbrellas doubled this quarter."], COLORS["yellow"]),
                ("Outlook", ["We expect steady demand for red raincoats."], COLORS["red"]),
                ("Appendix", ["Figures are unaudited."], BACKGROUNDS["gray"]),
                ("Contacts", ["Write to the sales team for details."], COLORS["blue"]),
            ],
        ),
    }
    for name, (title, pages) in documents.items():
        (directory / name).write_bytes(build_pdf(pages, title=title))
    return list(documents)


def write_products(directory: Path, count: int = 30) -> Path:
    """Write a Parquet catalog of ``count`` products with their images; returns its path.

    Image references are keys relative to the catalog (``images/<sku>.png``). The record key
    is in ``id``, the catalog reader's default key column, so the catalog ingests with the
    default settings (``mmingest ingest samples/products --kind products``); ``sku`` repeats it
    as a product field.
    """
    images = directory / "images"
    images.mkdir(parents=True, exist_ok=True)
    kinds = ("mug", "t-shirt", "poster", "umbrella", "notebook")
    rows: dict[str, list[object]] = {
        "id": [],
        "sku": [],
        "title": [],
        "description": [],
        "price": [],
        "brand": [],
        "category": [],
        "image": [],
    }
    for index, sample in enumerate(sample_images(count)):
        kind = kinds[index % len(kinds)]
        sku = f"SKU-{index + 1:04d}"
        (images / f"{sku}.png").write_bytes(encode(draw(sample, (200, 200)), "PNG"))
        rows["id"].append(sku)
        rows["sku"].append(sku)
        rows["title"].append(f"{sample.color.title()} {sample.shape} {kind}")
        rows["description"].append(
            f"A {kind} printed with {sample.caption}. Durable, washable and made to last."
        )
        rows["price"].append(round(4.5 + 1.25 * index, 2))
        rows["brand"].append(("Acme", "Globex", "Initech")[index % 3])
        rows["category"].append(kind)
        rows["image"].append(f"images/{sku}.png")
    path = directory / "catalog.parquet"
    pq.write_table(pa.table(rows), path)
    return path


def write_samples(root: Path, *, images: int = 24) -> dict[str, Path]:
    """Write the whole sample set under ``root``; returns the folder of each kind."""
    write_images(root / "images", images)
    write_pdfs(root / "pdfs")
    write_products(root / "products")
    return {"images": root / "images", "pdfs": root / "pdfs", "products": root / "products"}
