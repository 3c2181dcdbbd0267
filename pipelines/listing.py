"""Turn a streamed listing into image candidates, each paired with its caption sidecars.

A sidecar is ``<stem>.txt`` or ``<stem>.json`` beside ``<stem>.<image extension>``. Sources
list in lexicographic key order, so every sidecar of ``dir/stem.jpg`` is listed before any key
greater than ``dir/stem.txt``; an image waits in a small buffer only until the listing passes
that point. Memory stays bounded however many keys the bucket holds.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from mmingest.schemas.objects import ObjectInfo
from mmingest.schemas.points import point_id

IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"}
)
SIDECAR_SUFFIXES = (".json", ".txt")

EXTRACTION_VERSION = "images-1"
"""Bump when decoding or captioning changes what is embedded, to re-embed on the next run."""


@dataclass(frozen=True)
class ImageCandidate:
    """An image object and the sidecar objects that caption it."""

    image: ObjectInfo
    sidecars: tuple[ObjectInfo, ...] = ()

    @property
    def image_id(self) -> str:
        """The id of the point this image becomes."""
        return point_id(self.image.uri)

    @property
    def content_hash(self) -> str:
        """Fingerprint of every input of the point, from the listing alone (nothing is read).

        Changes when the image or a sidecar changes (their etags do), when a sidecar appears or
        disappears, and when :data:`EXTRACTION_VERSION` is bumped.
        """
        parts = [EXTRACTION_VERSION, self.image.etag, str(self.image.size)]
        parts += [f"{sidecar.key}={sidecar.etag}" for sidecar in self.sidecars]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Ignored:
    """A listed object that is not an input of the image pipeline."""

    obj: ObjectInfo
    reason: str


@dataclass
class _Group:
    images: list[ObjectInfo] = field(default_factory=list)
    sidecars: list[ObjectInfo] = field(default_factory=list)


# Every image or sidecar key of a stem sorts before stem + this suffix, so once the listing has
# passed it the stem's group is complete (".webp" is the greatest suffix of either kind).
_GROUP_END = max((*IMAGE_SUFFIXES, *SIDECAR_SUFFIXES))


def _stem_key(key: str) -> str:
    """``dir/photo`` for ``dir/photo.jpg`` (the key without its last extension)."""
    slash = key.rfind("/")
    dot = key.rfind(".")
    return key[:dot] if dot > slash + 1 else key


def _release(group: _Group) -> Iterator[ImageCandidate | Ignored]:
    if not group.images:
        for sidecar in group.sidecars:
            yield Ignored(sidecar, "sidecar without an image of the same name")
    for image in group.images:
        yield ImageCandidate(image, tuple(group.sidecars))


def pair_sidecars(objects: Iterable[ObjectInfo]) -> Iterator[ImageCandidate | Ignored]:
    """Image candidates (with sidecars) and ignored objects, in listing order.

    Expects ``objects`` in lexicographic key order. A sidecar captions every image of the same
    stem (``b.txt`` captions ``b.jpg`` and ``b.png``); a sidecar with no such image, and every
    object that is neither an image nor a sidecar, is reported as ignored.
    """
    groups: OrderedDict[str, _Group] = OrderedDict()
    for obj in objects:
        while groups:
            stem, group = next(iter(groups.items()))
            if obj.key <= stem + _GROUP_END:
                break
            groups.popitem(last=False)
            yield from _release(group)
        suffix = obj.suffix
        if suffix in IMAGE_SUFFIXES:
            groups.setdefault(_stem_key(obj.key), _Group()).images.append(obj)
        elif suffix in SIDECAR_SUFFIXES:
            groups.setdefault(_stem_key(obj.key), _Group()).sidecars.append(obj)
        else:
            yield Ignored(obj, f"not an image ({suffix or 'no extension'})")
    for group in groups.values():
        yield from _release(group)
