"""What the source contract needs from a backend: a fresh bucket, a way to arrange objects in
it with the service's own client (never through the code under test), and sources over it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from mmingest.connectors.sources.base import Source
from tests.emulators.faulty_proxy import FaultyProxy

CANARY = "sk-canary-source-5e1d"
"""A recognisable wrong secret: the contract checks it never shows in an error."""


@dataclass(frozen=True)
class Behaviour:
    """Where a backend legitimately differs from S3 (each difference is asserted, not skipped)."""

    metadata: bool = True
    """Objects carry user metadata (``x-amz-meta-*``, Azure blob metadata, GCS custom
    metadata); a local folder has none (captions come from sidecar files there)."""
    newline_keys: str = "stops_listing"
    """``read`` (a folder or memory), ``refused`` (the server refuses to store them) or
    ``stops_listing`` (stored, but obstore cannot address them: the listing stops clearly)."""
    server_pages: bool = True
    """The server honours a small listing page size, so paging is proven request by request
    (fake-gcs-server answers every listing in one page)."""
    checks_credentials: bool = True
    """The server itself refuses wrong credentials; when it does not (moto, fake-gcs-server),
    the faulty proxy answers the refusal the real service sends."""
    network: bool = True
    """Requests cross HTTP, so transient errors can be injected (not for folders or memory)."""
    byte_order: bool = True
    """Listings come in UTF-8 byte order of the keys, as S3 sends them. s3rver walks its folders
    instead: ``a/b.jpg`` comes before ``a-b.jpg`` and ``a.jpg`` (and, since its continuation
    token resumes after the last key in byte order, a page ending on such a key skips the
    siblings listed after it; the product asks for 1000 keys a page)."""


class SourceHarness:
    """One backend, one empty bucket: arrange objects, open sources over them."""

    name: str
    behaviour: Behaviour
    settings: str = ""
    """The backend's settings table (``s3``, ``gcs``, ``azure``), for messages naming them."""

    def put(self, key: str, data: bytes, metadata: Mapping[str, str] | None = None) -> None:
        """Store ``data`` under ``key`` with the service's own client."""
        raise NotImplementedError

    def delete(self, key: str) -> None:
        """Remove ``key`` with the service's own client."""
        raise NotImplementedError

    def source(self, *, page_size: int = 1000) -> Source:
        """A source over the bucket, authenticated as the fixture's owner."""
        raise NotImplementedError

    @contextmanager
    def proxied(
        self, *, page_size: int = 1000, max_retries: int = 3
    ) -> Iterator[tuple[FaultyProxy, Source]]:
        """A source whose every request crosses a :class:`FaultyProxy`."""
        pytest.skip(f"{self.name}: no network between the client and the store")
        yield  # pragma: no cover

    @contextmanager
    def wrong_credentials(self) -> Iterator[tuple[FaultyProxy, Source, str]]:
        """A source (through a proxy) holding a wrong secret (built from :data:`CANARY`), and
        the text of that secret, which no error may show."""
        pytest.skip(f"{self.name}: no credentials")
        yield  # pragma: no cover

    def missing_source(self) -> Source:
        """A source over a bucket (or folder) that does not exist."""
        pytest.skip(f"{self.name}: every bucket exists")

    def public_source(self, objects: Mapping[str, bytes]) -> Source:
        """An anonymous (unsigned) source over a new, publicly readable bucket of ``objects``."""
        pytest.skip(f"{self.name}: no anonymous access")
