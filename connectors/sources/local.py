"""A local folder as a source (development, tests and on-prem file shares)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import BinaryIO
from urllib.parse import unquote, urlparse

from mmingest.connectors.sources.base import Blob, check_size
from mmingest.schemas.errors import ConfigError, ObjectVanished, SourceUnavailable
from mmingest.schemas.objects import ObjectInfo


def path_from_uri(uri: str) -> Path:
    """The local path of a ``file://`` URI or a plain path."""
    if uri.startswith("file://"):
        parsed = urlparse(uri)
        if parsed.netloc not in ("", "localhost"):
            raise ConfigError(f"{uri!r}: file URIs must name a local path (file:///path)")
        return Path(unquote(parsed.path))
    return Path(uri).expanduser()


class LocalFolderSource:
    """Lists and reads the files under a directory.

    Hidden entries (names starting with ``.``) are not listed, and symlinked directories are
    not followed (a link cycle cannot hang a listing); symlinked files are read like files.
    Keys are POSIX paths relative to the root; ``etag`` is derived from size and mtime.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = path_from_uri(str(root)).resolve()

    @property
    def uri(self) -> str:
        """The root as a ``file://`` URI."""
        return self.root.as_uri()

    def precheck(self) -> None:
        """Fail unless the root is a readable directory."""
        if not self.root.exists():
            raise ConfigError(f"source folder {self.root} does not exist")
        if not self.root.is_dir():
            raise ConfigError(f"source {self.root} is not a folder")
        if not os.access(self.root, os.R_OK | os.X_OK):
            raise ConfigError(f"source folder {self.root} is not readable by this user")

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Files under the root whose key starts with ``prefix``, in lexicographic key order."""
        yield from self._walk(self.root, "", prefix)

    def _walk(self, directory: Path, key_prefix: str, prefix: str) -> Iterator[ObjectInfo]:
        try:
            entries = list(os.scandir(directory))
        except OSError as error:
            raise SourceUnavailable(
                f"cannot list {directory}: {error.strerror or error}"
            ) from error
        # A directory's keys continue with "/", so sorting on name + "/" yields the same global
        # order as sorting full keys, which is what object stores list in.
        keyed = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            is_dir = entry.is_dir(follow_symlinks=False)
            keyed.append((entry.name + "/" if is_dir else entry.name, is_dir, entry))
        keyed.sort(key=lambda item: item[0])
        for sort_key, is_dir, entry in keyed:
            key = key_prefix + sort_key
            if is_dir:
                if key.startswith(prefix) or prefix.startswith(key):
                    yield from self._walk(Path(entry.path), key, prefix)
                continue
            if not key.startswith(prefix):
                continue
            try:
                stat = entry.stat()
            except OSError:
                continue  # vanished or dangling link between scandir and stat: not an object
            if not entry.is_file():
                continue
            yield ObjectInfo(
                uri=Path(entry.path).as_uri(),
                key=key,
                size=stat.st_size,
                etag=f"{stat.st_size:x}-{stat.st_mtime_ns:x}",
                mtime=datetime.fromtimestamp(stat.st_mtime, UTC),
            )

    def path_of(self, key: str) -> Path:
        """The file behind ``key``, refusing keys that would leave the root."""
        relative = PurePosixPath(key)
        if relative.is_absolute() or ".." in relative.parts:
            raise ConfigError(f"object key {key!r} escapes the source folder {self.root}")
        return self.root.joinpath(*relative.parts)

    def uri_of(self, key: str) -> str:
        """The ``file://`` URI of ``key``."""
        return self.path_of(key).as_uri()

    async def read(self, key: str, *, max_bytes: int | None = None) -> Blob:
        """The file's bytes (read in a worker thread); local files carry no metadata."""
        path = self.path_of(key)

        def read_file() -> bytes:
            with path.open("rb") as handle:
                check_size(key, os.fstat(handle.fileno()).st_size, max_bytes)
                return handle.read()

        try:
            return Blob(await asyncio.to_thread(read_file))
        except FileNotFoundError as error:
            raise ObjectVanished(
                f"{self.uri_of(key)} does not exist (deleted after listing?)"
            ) from error
        except IsADirectoryError as error:
            raise ObjectVanished(f"{self.uri_of(key)} is a folder, not a file") from error
        except OSError as error:
            raise SourceUnavailable(
                f"cannot read {self.uri_of(key)}: {error.strerror or error}"
            ) from error

    def open(self, key: str) -> BinaryIO:
        """The file, opened for reading."""
        try:
            return self.path_of(key).open("rb")
        except FileNotFoundError as error:
            raise ObjectVanished(f"{self.uri_of(key)} does not exist") from error
        except OSError as error:
            raise SourceUnavailable(f"cannot open {self.uri_of(key)}: {error.strerror}") from error

    def close(self) -> None:
        """Nothing to release."""
