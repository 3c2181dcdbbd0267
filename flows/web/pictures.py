"""Pictures for the page: bounded-size thumbnails and views, kept in a byte-bounded cache.

Every picture is decoded and re-encoded (JPEG, or PNG when it has transparency) at a bounded
size: what reaches the browser is always a plain raster image of known type, whatever the
stored object was, and a cached thumbnail never needs the full object again.
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from dataclasses import dataclass

from PIL import Image

from mmingest.pipelines.images import open_image

MAX_PICTURE_PIXELS = 80_000_000


@dataclass(frozen=True)
class Picture:
    """Encoded image bytes and their media type."""

    data: bytes
    media_type: str


def render(data: bytes, longest_side: int) -> Picture:
    """``data`` (any readable image) scaled to fit ``longest_side`` and re-encoded.

    Raises :class:`~mmingest.schemas.errors.InvalidInput` when ``data`` is not a readable image.
    """
    image = open_image(data, max_pixels=MAX_PICTURE_PIXELS)
    image.draft("RGB", (longest_side, longest_side))  # JPEG: decode at a reduced scale
    image.load()
    transparent = image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    image = image.convert("RGBA" if transparent else "RGB")
    image.thumbnail((longest_side, longest_side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    if transparent:
        media_type = "image/png"
        image.save(buffer, format="PNG", optimize=True)
    else:
        media_type = "image/jpeg"
        image.save(buffer, format="JPEG", quality=85)
    return Picture(buffer.getvalue(), media_type)


class PictureCache:
    """Least-recently-used pictures, at most ``max_bytes`` in total (thread-safe)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple[str, ...], Picture] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[str, ...]) -> Picture | None:
        """The cached picture for ``key``, or None."""
        with self._lock:
            picture = self._items.get(key)
            if picture is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return picture

    def put(self, key: tuple[str, ...], picture: Picture) -> None:
        """Keep ``picture``, evicting the least recently used ones beyond the budget."""
        size = len(picture.data)
        if size > self.max_bytes:
            return
        with self._lock:
            previous = self._items.pop(key, None)
            if previous is not None:
                self._size -= len(previous.data)
            self._items[key] = picture
            self._size += size
            while self._size > self.max_bytes:
                _, evicted = self._items.popitem(last=False)
                self._size -= len(evicted.data)

    def __len__(self) -> int:
        return len(self._items)
