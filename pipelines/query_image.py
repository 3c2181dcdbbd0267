"""Reading a query image from a file: a regular file under a size cap, never blocking."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from mmingest.connectors.sources.base import check_size
from mmingest.schemas.errors import ConfigError


def read_query_image(path: Path, max_bytes: int) -> bytes:
    """The bytes of a query image file: a regular file (a FIFO or device is refused without
    blocking) of at most ``max_bytes`` (checked before anything is read)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError as error:
        raise ConfigError(f"query image {path} does not exist") from error
    except OSError as error:
        raise ConfigError(f"cannot open query image {path}: {error.strerror}") from error
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"query image {path} is not a regular file")
        check_size(f"query image {path}", info.st_size, max_bytes)
        os.set_blocking(fd, True)
        data = handle.read(max_bytes + 1)
    check_size(f"query image {path}", len(data), max_bytes)  # it grew while being read
    return data
