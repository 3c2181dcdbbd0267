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

from mmingest.connectors.extras import import_extra
from mmingest.pipelines.captions import clean_caption
from mmingest.pipelines.extract.base import ExtractContext, Prepared, PreparedBatch, add_estimate
from mmingest.pipelines.images import normalize_image
from mmingest.pipelines.stages import chunked
from mmingest.schemas.assets import Asset, AssetKind
from mmingest.schemas.config import PdfConfig
from mmingest.schemas.errors import EmptyObject, InvalidInput, TransientError
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
    return import_extra("pypdfium2", "PDF ingestion")


def open_document(data: bytes, config: PdfConfig) -> Any:
    """Open a PDF, raising :class:`PdfError` with the specific reason when it cannot be."""
    if not data:
        raise EmptyObject("the object is empty (0 bytes)")
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
    pdfium = _import_pdfium()
    with _PDFIUM:
        try:
            page = document[index]
        except pdfium.PdfiumError as error:
            raise PdfError(
                f"page {index + 1} cannot be loaded although the page tree declares "
                f"{len(document)} pages (a wrong /Count or a damaged or cyclic page tree)"
            ) from error
        try:
            width, height = page.get_size()
            if width <= 0 or height <= 0:
                raise PdfError(f"page {index + 1} has an empty page box ({width}x{height} pt)")
            scale = min(config.dpi / 72.0, math.sqrt(config.max_pixels / (width * height)))
            try:
                bitmap = page.render(scale=scale)
            except pdfium.PdfiumError as error:
                raise PdfError(f"page {index + 1} cannot be rendered: {error}") from error
            image = bitmap.to_pil()
            textpage = page.get_textpage()
            text = textpage.get_text_bounded()
            textpage.close()
        finally:
            page.close()
    return image, text


def page_text(document: Any, index: int) -> str:
    """The text of a page, without rendering it (what a dry run counts).

    A page that cannot be loaded (a lying /Count) has no text to estimate; the real run
    reports it.
    """
    pdfium = _import_pdfium()
    with _PDFIUM:
        try:
            page = document[index]
        except pdfium.PdfiumError:
            return ""
        try:
            textpage = page.get_textpage()
            text = str(textpage.get_text_bounded())
            textpage.close()
        finally:
            page.close()
    return text


def _title(document: Any) -> str | None:
    with _PDFIUM:
        title = document.get_metadata_dict().get("Title")
    return clean_caption(title, max_chars=1000) if isinstance(title, str) else None


def _page_order(page_count: int) -> list[int]:
    # Page 1 goes last: it names the document's page count (see ``document_hash``), so a run
    # killed mid-document leaves no first page behind to vouch for pages that never landed.
    return [*range(2, page_count + 1), 1]


def document_hash(content_hash: str, page_count: int) -> str:
    """The hash every page of a document is stored with: its version and its page count.

    The count makes a document's completeness checkable from any one stored page: the
    document is complete only when all ``page_count`` pages carry this hash.
    """
    return f"{content_hash}:{page_count}"


def _stored_page_count(stored_hash: str | None, content_hash: str) -> int | None:
    """The page count a stored page of this document version records, if it is one."""
    if stored_hash is None:
        return None
    version, _, count = stored_hash.rpartition(":")
    return int(count) if version == content_hash and count.isdigit() else None


def _stored_pages(uri: str, context: ExtractContext, page_count: int) -> dict[int, str]:
    """The stored hash of each page of the document that is in the store."""
    found: dict[int, str] = {}
    for numbers in chunked(range(1, page_count + 1), _STALE_PAGE_LOOKUP):
        ids = {point_id(uri, str(n)): n for n in numbers}
        found.update({ids[i]: h for i, h in context.stored_hashes(list(ids)).items()})
    return found


def extract_pdf(
    obj: ObjectInfo, context: ExtractContext, config: PdfConfig
) -> Iterator[PreparedBatch]:
    """The pages of one PDF that are not stored yet, ``batch_size`` at a time.

    A document is complete only when every page is stored with the current document hash:
    a complete document yields nothing to embed (it is read only when a page is missing or
    stale), and an incomplete one yields just its missing and stale pages.
    """
    content_hash = pdf_content_hash(obj, config)
    first_page = point_id(obj.uri, "1")
    previous = context.stored_hashes([first_page]).get(first_page)
    recorded = _stored_page_count(previous, content_hash)
    if recorded is not None:
        stored = _stored_pages(obj.uri, context, recorded)
        if all(stored.get(n) == previous for n in range(1, recorded + 1)):
            # Counted in items (pages), as on the run that embedded them.
            yield PreparedBatch(seen=recorded, unchanged=recorded)
            return
    blob = context.read_many([(obj.key, context.config.max_object_bytes)])[obj.key]
    if isinstance(blob, Exception):
        yield PreparedBatch(
            seen=1, failures=[Failure.of(obj.uri, Stage.READ, blob)], shielded_sources=[obj.uri]
        )
        return
    try:
        document = open_document(blob.data, config)
    except InvalidInput as error:
        yield PreparedBatch(
            seen=1, failures=[Failure.of(obj.uri, Stage.DECODE, error)], shielded_sources=[obj.uri]
        )
        return
    try:
        title = _title(document)
        page_count = len(document)
        page_hash = document_hash(content_hash, page_count)
        stored = _stored_pages(obj.uri, context, page_count)
        landed = {n for n, stored_hash in stored.items() if stored_hash == page_hash}
        todo = [n for n in _page_order(page_count) if n not in landed]
        if context.dry_run:
            counted = PreparedBatch(seen=page_count, unchanged=len(landed))
            counted.new = sum(1 for n in todo if n not in stored)
            counted.changed = len(todo) - counted.new
            # The text is cheap to extract (no rendering) and is what a provider bills.
            captions = [
                clean_caption(
                    page_text(document, n - 1)[: config.max_text_chars],
                    max_chars=config.max_text_chars,
                )
                for n in todo
            ]
            add_estimate(
                counted,
                images=len(todo),
                texts=sum(1 for caption in captions if caption),
                chars=sum(len(caption or "") for caption in captions),
            )
            yield counted
            return
        batches = list(chunked(todo, context.config.batch_size))
        if landed:
            yield PreparedBatch(seen=len(landed), unchanged=len(landed))
        for position, numbers in enumerate(batches):
            batch = PreparedBatch(seen=len(numbers), commit=position == len(batches) - 1)
            batch.new = sum(1 for n in numbers if n not in stored)
            batch.changed = len(numbers) - batch.new
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
                    content_hash=page_hash,
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
    if previous is not None or len(landed) < len(stored):
        # The document changed: pages beyond its new length belong to the old version.
        stale: list[str] = []
        for numbers in chunked(range(page_count + 1, config.max_pages + 1), _STALE_PAGE_LOOKUP):
            found = context.stored_hashes([point_id(obj.uri, str(n)) for n in numbers])
            stale += [context.store_id(page_id) for page_id in found]
        if stale:
            yield PreparedBatch(stale_ids=stale)
