"""One policy for pictures referenced by URI: what ingest accepts, stores and display reads.

A catalog's image reference is resolved *once*, at ingest, against the catalog's own location:

- ``http(s)://`` URLs are kept as they are (the HTTP fetcher checks their hosts);
- bucket URIs (``s3://``, ``gs://``, ``az://``, ``memory://``) are kept as written (a key is a
  name, not a path, so it cannot leave its bucket);
- anything else is a path *relative to the catalog*: in a bucket it resolves within the
  catalog's bucket (``../images/x.jpg`` next to ``shop/catalog/products.csv`` is
  ``s3://bucket/shop/images/x.jpg``); in a local folder it must stay inside the ingested folder
  or one of ``source.allowed_local_roots``. Absolute paths, ``~`` and ``file://`` references
  are refused: catalog data never names the host's files.

Only the resolved, accepted URIs are stored in the payload (``fields.images``). Display
(:func:`mmingest.pipelines.display.read_picture`) reads a stored URI only through
:meth:`ReferencePolicy.locate`, with the same source settings, so a payload tampered to hold
``/etc/passwd`` or ``file:///etc/passwd`` is refused there too: a ``file://`` URI must lie in an
allowed local root, and local reads follow the local source's rules (regular files whose
resolved path stays inside the root).
"""

from __future__ import annotations

import posixpath
import threading
from collections.abc import Sequence
from pathlib import Path

from mmingest.connectors.sources import open_source, scheme_of
from mmingest.connectors.sources.base import Source
from mmingest.connectors.sources.local import LocalFolderSource, path_from_uri
from mmingest.schemas.config import SourceConfig
from mmingest.schemas.errors import InvalidInput

BUCKET_SCHEMES = ("s3", "gs", "az", "memory")
WEB_SCHEMES = ("http", "https")
ROOTS_SETTING = "source.allowed_local_roots (MMINGEST_SOURCE__ALLOWED_LOCAL_ROOTS)"


class UnsafeReference(InvalidInput):
    """A picture reference outside the places pictures may be read from."""


def _split_bucket_uri(uri: str) -> tuple[str, str, str]:
    scheme, _, rest = uri.partition("://")
    bucket, _, key = rest.partition("/")
    return scheme.lower(), bucket, key


def _clean_key(key: str, reference: str, where: str) -> str:
    normal = posixpath.normpath(key.lstrip("/")) if key else "."
    if normal in (".", "..") or normal.startswith("../"):
        raise UnsafeReference(f"refused image reference {reference!r}: it leaves {where}")
    return normal


class ReferencePolicy:
    """Resolves catalog references to accepted URIs and opens accepted URIs for reading.

    ``local_roots`` are the folders local pictures may come from (the ingested folder plus
    ``source.allowed_local_roots`` at ingest; the allowed roots at display). Bucket clients are
    built from ``source_config`` (never the default credential chain when settings say
    otherwise) and shared for the policy's lifetime.
    """

    def __init__(self, source_config: SourceConfig, *, local_roots: Sequence[Path] = ()) -> None:
        self.source_config = source_config
        roots = [*local_roots, *source_config.allowed_local_roots]
        self.local_roots = list(dict.fromkeys(Path(root).expanduser().resolve() for root in roots))
        self._sources: dict[str, Source] = {}
        self._lock = threading.Lock()

    # --- ingest: a reference found in a catalog ---------------------------------------------

    def resolve(self, reference: str, catalog_uri: str) -> str:
        """The absolute URI ``reference`` (found in the catalog at ``catalog_uri``) stands for.

        Raises :class:`UnsafeReference` when the policy refuses it.
        """
        reference = reference.strip()
        scheme = scheme_of(reference)
        if scheme in WEB_SCHEMES:
            return reference
        if scheme in BUCKET_SCHEMES:
            return self._bucket_uri(reference)
        if "://" in reference or reference.startswith(("/", "~", "\\")):
            raise UnsafeReference(
                f"refused image reference {reference!r}: use a path relative to the catalog, "
                "a bucket URI (s3://, gs://, az://) or an http(s) URL"
            )
        catalog_scheme = scheme_of(catalog_uri)
        if catalog_scheme in BUCKET_SCHEMES:
            bucket_scheme, bucket, catalog_key = _split_bucket_uri(catalog_uri)
            joined = posixpath.join(posixpath.dirname(catalog_key), reference)
            key = _clean_key(joined, reference, f"the bucket {bucket_scheme}://{bucket}")
            return f"{bucket_scheme}://{bucket}/{key}"
        if catalog_scheme != "file":
            raise UnsafeReference(
                f"refused image reference {reference!r}: relative references need a catalog "
                f"in a bucket or a local folder, not {catalog_uri}"
            )
        folder = path_from_uri(catalog_uri).parent
        path = Path(posixpath.normpath(posixpath.join(folder.as_posix(), reference)))
        self._local_root_of(path, reference)
        return path.as_uri()

    # --- ingest and display: an accepted URI ------------------------------------------------

    def locate(self, uri: str) -> tuple[Source | None, str]:
        """The source to read ``uri`` from (None for a web URL) and the key within it."""
        scheme = scheme_of(uri)
        if scheme in WEB_SCHEMES:
            return None, uri
        if scheme in BUCKET_SCHEMES:
            scheme, bucket, key = _split_bucket_uri(self._bucket_uri(uri))
            return self._source(f"{scheme}://{bucket}"), key
        if not uri.startswith("file://"):
            raise UnsafeReference(
                f"refused picture {uri!r}: not a URI ingest stores (file://, a bucket URI or "
                "http(s)); relative and plain paths are never read (a payload written before "
                "references were stored resolved: re-run the ingest)"
            )
        path = path_from_uri(uri)
        if not path.is_absolute() or posixpath.normpath(path.as_posix()) != path.as_posix():
            raise UnsafeReference(f"refused picture {uri!r}: not a normalised absolute path")
        root = self._local_root_of(path, uri)
        return self._source(root.as_uri()), path.relative_to(root).as_posix()

    def close(self) -> None:
        """Release the bucket clients opened so far."""
        with self._lock:
            sources, self._sources = list(self._sources.values()), {}
        for source in sources:
            source.close()

    # --- helpers -----------------------------------------------------------------------------

    def _bucket_uri(self, reference: str) -> str:
        # A bucket key is a name, not a path: "a/../b" is an object of its own and cannot
        # reach outside the bucket, so absolute bucket URIs are kept exactly as written.
        scheme, bucket, key = _split_bucket_uri(reference)
        if not bucket or not key:
            raise UnsafeReference(f"refused image reference {reference!r}: it names no object")
        return f"{scheme}://{bucket}/{key}"

    def _local_root_of(self, path: Path, reference: str) -> Path:
        for root in self.local_roots:
            if path != root and path.is_relative_to(root):
                return root
        allowed = ", ".join(str(root) for root in self.local_roots) or "none configured"
        raise UnsafeReference(
            f"refused image reference {reference!r}: {path} is outside the local folders "
            f"pictures may be read from ({allowed}); add its folder to {ROOTS_SETTING} to "
            "allow it"
        )

    def _source(self, root: str) -> Source:
        with self._lock:
            source = self._sources.get(root)
            if source is None:
                if scheme_of(root) == "file":
                    source = LocalFolderSource(root)
                else:
                    source = open_source(root, self.source_config)
                self._sources[root] = source
            return source
