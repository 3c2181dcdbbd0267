"""The picture behind a search hit, for an app to display."""

from __future__ import annotations

import asyncio
import io
from typing import Any

from mmingest.connectors.sources import scheme_of
from mmingest.pipelines.reference_policy import ReferencePolicy
from mmingest.schemas.config import PdfConfig, SourceConfig
from mmingest.schemas.errors import CapabilityMissing, ConfigError
from mmingest.schemas.query import Hit

MAX_PICTURE_BYTES = 256 * 1024 * 1024


def picture_uri(hit: Hit) -> str:
    """The object holding a hit's picture (a product's first image reference)."""
    if hit.kind == "product":
        images = (hit.payload.get("fields") or {}).get("images") or []
        if not images:
            raise ConfigError(f"product {hit.id} has no image reference")
        return str(images[0])
    if not hit.source_uri:
        raise ConfigError(f"hit {hit.id} has no source_uri in its payload")
    return hit.source_uri


def read_picture(hit: Hit, *, source_config: SourceConfig | None = None) -> bytes:
    """Encoded picture bytes: the original image, a PDF page rendered as PNG, or a product's
    first image when it lives in object storage or an allowed local folder.

    The URI the point records is read only if the reference policy accepts it (see
    :mod:`mmingest.pipelines.reference_policy`), with ``source_config``: buckets with its
    endpoints and credentials, local files only inside ``source.allowed_local_roots``.
    """
    uri = picture_uri(hit)
    if scheme_of(uri) in ("http", "https"):
        raise CapabilityMissing(
            f"{uri} is a web image: let the browser load it (mmingest.pipelines.query.display_uri) "
            "rather than fetching it server-side"
        )
    data = _read(uri, source_config or SourceConfig())
    if hit.kind != "pdf_page":
        return data
    return _render_page(data, (hit.page or 1) - 1)


def _read(uri: str, config: SourceConfig) -> bytes:
    policy = ReferencePolicy(config)
    try:
        source, key = policy.locate(uri)
        assert source is not None  # web URIs were turned away above

        async def read() -> bytes:
            return (await source.read(key, max_bytes=MAX_PICTURE_BYTES)).data

        return bytes(_run(read()))
    finally:
        policy.close()


def _run(coroutine: Any) -> Any:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    # Called from async code: run on a private loop in a worker thread.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _render_page(data: bytes, index: int) -> bytes:
    from mmingest.pipelines.extract.pdfs import open_document, render_page

    config = PdfConfig()
    document = open_document(data, config)
    try:
        image, _ = render_page(document, index, config)
    finally:
        document.close()
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
