"""PDF documents: one point per page, rendered for the ``image`` vector, text for the caption.

PDFium (through pypdfium2) is not thread-safe, so every call into it holds one lock; pages
are rendered and yielded a batch at a time, so a long document never sits in memory whole.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
from collections.abc import Iterator
from typing import Any

from mmingest.pipelines.captions import clean_caption
from mmingest.pipelines.extract.base import ExtractContext, Prepared, PreparedBatch, add_estimate
from mmingest.pipelines.images import normalize_image
from mmingest.pipelines.stages import chunked
from mmingest.schemas.assets import Asset, AssetKind
from mmingest.schemas.config import PdfConfig
from mmingest.schemas.errors import ConfigError, InvalidInput, TransientError
from mmingest.schemas.objects import ObjectInfo
from mmingest.schemas.points import point_id
from mmingest.schemas.summary import Failure, Stage

EXTRACTION_VERSION = "pdf-1"
"""Bump when rendering or text extraction changes, to re-embed PDFs on the next run."""

_PDFIUM = threading.Lock()
_PASSWORD_ERROR = 4
_SECURITY_ERROR = 5
_STALE_PAGE_LOOKUP = 1000
_EMPTY_PAGE_TREE = re.compile(
    rb"/Type\s*/Pages\b[^>]*?/Count\s+0\b|/Count\s+0\b[^>]*?/Type\s*/Pages\b"
)


class PdfError(InvalidInput):
    """A PDF document that cannot be opened (encrypted, damaged, empty or too long)."""


def pdf_content_hash(obj: ObjectInfo, config: PdfConfig) -> str:
    """Fingerprint of a document version and of how its pages are rendered."""
    parts = [
        EXTRACTION_VERSION,
        obj.etag,
        str(obj.size),
        str(config.dpi),
        str(config.max_pixels),
        str(config.max_text_chars),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def _import_pdfium() -> Any:
    try:
        import pypdfium2
    except ImportError as error:
        raise ConfigError("PDF ingestion needs pypdfium2: pip install 'mmingest[pdf]'") from error
    return pypdfium2


def open_document(data: bytes, config: PdfConfig) -> Any:
    """Open a PDF, raising :class:`PdfError` with the specific reason when it cannot be."""
    pdfium = _import_pdfium()
    password = config.password.get_secret_value() if config.password else None
    try:
        with _PDFIUM:
            document = pdfium.PdfDocument(data, password=password)
            pages = len(document)
    except pdfium.PdfiumError as error:
        code = getattr(error, "err_code", None)
        if code == _PASSWORD_ERROR:
            hint = "the configured pdf.password is wrong" if password else "set pdf.password"
            raise PdfError(f"the PDF is encrypted ({hint})") from error
        if code == _SECURITY_ERROR:
            raise PdfError("the PDF uses an unsupported security handler") from error
        # PDFium refuses an empty page tree without setting an error code of its own (the
        # code is whatever an earlier failure left), so look for that tree in the bytes.
        if _EMPTY_PAGE_TREE.search(data):
            raise PdfError("the PDF has no pages") from error
        raise PdfError("not a readable PDF (damaged, truncated or not a PDF)") from error
    if pages == 0:
        document.close()
        raise PdfError("the PDF has no pages")
    if pages > config.max_pages:
        document.close()
        raise PdfError(f"the PDF has {pages:,} pages, over pdf.max_pages = {config.max_pages:,}")
    return document


def render_page(document: Any, index: int, config: PdfConfig) -> tuple[Any, str]:
    """The page rendered within the pixel budget, and its text."""
    with _PDFIUM:
        page = document[index]
        try:
            width, height = page.get_size()
            if width <= 0 or height <= 0:
                raise PdfError(f"page {index + 1} has an empty page box ({width}x{height} pt)")
            scale = min(config.dpi / 72.0, math.sqrt(config.max_pixels / (width * height)))
            bitmap = page.render(scale=scale)
            image = bitmap.to_pil()
            textpage = page.get_textpage()
            text = textpage.get_text_bounded()
            textpage.close()
        finally:
            page.close()
    return image, text


def _title(document: Any) -> str | None:
    with _PDFIUM:
        title = document.get_metadata_dict().get("Title")
    return clean_caption(title, max_chars=1000) if isinstance(title, str) else None


def _page_order(page_count: int) -> list[int]:
    # Page 1 goes last: a stored page 1 with the current hash then means the whole document
    # landed, which is what the unchanged check looks at (a run killed mid-document redoes it).
    return [*range(2, page_count + 1), 1]


def extract_pdf(
    obj: ObjectInfo, context: ExtractContext, config: PdfConfig
) -> Iterator[PreparedBatch]:
    """The pages of one PDF, ``batch_size`` at a time (nothing if the document is unchanged)."""
    content_hash = pdf_content_hash(obj, config)
    first_page = point_id(obj.uri, "1")
    previous = context.stored_hashes([first_page]).get(first_page)
    if previous == content_hash:
        yield PreparedBatch(seen=1, unchanged=1)
        return
    blob = context.read_many([(obj.key, context.config.max_object_bytes)])[obj.key]
    if isinstance(blob, Exception):
        yield PreparedBatch(
            seen=1, failures=[Failure.of(obj.uri, Stage.READ, blob)], shielded_sources=[obj.uri]
        )
        return
    try:
        document = open_document(blob.data, config)
    except PdfError as error:
        yield PreparedBatch(
            seen=1, failures=[Failure.of(obj.uri, Stage.DECODE, error)], shielded_sources=[obj.uri]
        )
        return
    try:
        title = _title(document)
        page_count = len(document)
        if context.dry_run:
            counted = PreparedBatch(seen=page_count)
            setattr(counted, "new" if previous is None else "changed", page_count)
            add_estimate(counted, images=page_count, texts=page_count)
            yield counted
            return
        batches = list(chunked(_page_order(page_count), context.config.batch_size))
        for position, numbers in enumerate(batches):
            batch = PreparedBatch(seen=len(numbers), commit=position == len(batches) - 1)
            setattr(batch, "new" if previous is None else "changed", len(numbers))
            for number in numbers:
                try:
                    image, text = render_page(document, number - 1, config)
                    pixels = normalize_image(image, context.limits)
                except (InvalidInput, TransientError, ValueError, OSError) as error:
                    batch.failures.append(
                        Failure.of(f"{obj.uri}#page={number}", Stage.DECODE, error)
                    )
                    continue
                asset = Asset(
                    kind=AssetKind.PDF_PAGE,
                    source_uri=obj.uri,
                    part=str(number),
                    content_hash=content_hash,
                    caption=clean_caption(
                        text[: config.max_text_chars], max_chars=config.max_text_chars
                    ),
                    page=number,
                    title=title,
                    fields={"page_count": page_count},
                )
                batch.items.append(Prepared(asset, (pixels,)))
            yield batch
    finally:
        with _PDFIUM:
            document.close()
    if previous is not None:
        # The document changed: pages beyond its new length belong to the old version.
        stale: list[str] = []
        for numbers in chunked(range(page_count + 1, config.max_pages + 1), _STALE_PAGE_LOOKUP):
            found = context.stored_hashes([point_id(obj.uri, str(n)) for n in numbers])
            stale += [context.store_id(page_id) for page_id in found]
        if stale:
            yield PreparedBatch(stale_ids=stale)
