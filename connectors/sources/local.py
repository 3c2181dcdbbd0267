"""A local folder as a source (development, tests and on-prem file shares)."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import BinaryIO
from urllib.parse import unquote, urlparse

from mmingest.connectors.sources.base import Blob, check_size
from mmingest.schemas.errors import (
    ConfigError,
    ObjectVanished,
    RefusedObject,
    SourceUnavailable,
)
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
    not followed (a link cycle cannot hang a listing). Only regular files whose *resolved* path
    stays inside the root are read: a link leading out of the root (to ``/proc/self/environ``,
    ``/etc/passwd``...), a broken or looping link, and special files (devices, FIFOs, sockets)
    are listed, so that the run reports them, and refused with :class:`RefusedObject` when
    read. Keys are POSIX paths relative to the root; ``etag`` is derived from size and mtime.
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
                info = entry.stat(follow_symlinks=False)
                if entry.is_symlink():
                    # A broken or looping link keeps its own stat: listed, so reading reports it.
                    with contextlib.suppress(OSError):
                        info = entry.stat()
            except OSError:
                continue  # vanished between scandir and stat: not an object
            if stat.S_ISDIR(info.st_mode):
                continue  # a link to a folder: not followed (see the class docstring)
            # Special files and links are listed like files: reading refuses them, so the run
            # reports each one instead of skipping it without a word.
            yield ObjectInfo(
                uri=Path(entry.path).as_uri(),
                key=key,
                size=info.st_size,
                etag=f"{info.st_size:x}-{info.st_mtime_ns:x}",
                mtime=datetime.fromtimestamp(info.st_mtime, UTC),
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

    def open_regular(self, key: str) -> BinaryIO:
        """``key`` opened for reading, if it is a regular file inside the root.

        The path is resolved first (links inside the root are fine) and opened without
        following a last link and without blocking (a FIFO would otherwise hang the open); the
        opened descriptor must be a regular file, and where the OS can say (``/proc``) it must
        still lie inside the root, so a link swapped in between cannot redirect the read.
        Raises :class:`RefusedObject` otherwise, :class:`ObjectVanished` when it does not exist.
        """
        path = self.path_of(key)
        uri = path.as_uri()
        resolved = os.path.realpath(path)
        if not self._inside(resolved):
            # Name the target as the link spells it (what the user can see with ls -l).
            target = os.readlink(path) if os.path.islink(path) else resolved
            raise RefusedObject(
                f"{uri} is a link to {target}, outside the source folder {self.root}: "
                "refused, not read (copy the file into the folder to ingest it)",
                uri=uri,
            )
        flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0)
        try:
            # Stat first: opening a socket fails and opening a device may have side effects.
            self._refuse_special(os.stat(resolved).st_mode, uri)
            fd = os.open(resolved, flags | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError as error:
            if os.path.islink(path):
                raise RefusedObject(
                    f"{uri} is a broken link (its target {resolved} does not exist): refused",
                    uri=uri,
                ) from error
            raise ObjectVanished(f"{uri} does not exist (deleted after listing?)") from error
        except IsADirectoryError as error:
            raise ObjectVanished(f"{uri} is a folder, not a file") from error
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise RefusedObject(f"{uri} is a looping link: refused", uri=uri) from error
            raise SourceUnavailable(f"cannot open {uri}: {error.strerror or error}") from error
        try:
            self._refuse_special(os.fstat(fd).st_mode, uri)
            opened = _opened_path(fd)
            if opened is not None and not self._inside(opened):
                raise RefusedObject(
                    f"{uri} was replaced by a link to {opened} while being opened: refused",
                    uri=uri,
                )
            os.set_blocking(fd, True)
            return os.fdopen(fd, "rb")
        except BaseException:
            os.close(fd)
            raise

    @staticmethod
    def _refuse_special(mode: int, uri: str) -> None:
        if not stat.S_ISREG(mode):
            raise RefusedObject(
                f"{uri} is a {_file_type(mode)}, not a regular file: refused, not read", uri=uri
            )

    def _inside(self, resolved: str) -> bool:
        root = str(self.root)
        return resolved == root or resolved.startswith(root.rstrip(os.sep) + os.sep)

    async def read(self, key: str, *, max_bytes: int | None = None) -> Blob:
        """The file's bytes (read in a worker thread); local files carry no metadata."""

        def read_file() -> bytes:
            with self.open_regular(key) as handle:
                check_size(key, os.fstat(handle.fileno()).st_size, max_bytes)
                return handle.read()

        try:
            return Blob(await asyncio.to_thread(read_file))
        except OSError as error:
            raise SourceUnavailable(
                f"cannot read {self.uri_of(key)}: {error.strerror or error}"
            ) from error

    def open(self, key: str) -> BinaryIO:
        """The file, opened for reading (the same rules as :meth:`read`)."""
        return self.open_regular(key)

    def close(self) -> None:
        """Nothing to release."""


_FILE_TYPES = (
    (stat.S_ISFIFO, "FIFO"),
    (stat.S_ISSOCK, "socket"),
    (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
    (stat.S_ISDIR, "folder"),
)


def _file_type(mode: int) -> str:
    return next((name for test, name in _FILE_TYPES if test(mode)), "special file")


def _opened_path(fd: int) -> str | None:
    """The path the OS has for an open descriptor (Linux ``/proc``), None where unknown."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return None
