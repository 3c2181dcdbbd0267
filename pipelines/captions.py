"""Captions for plain images: sidecar files first, then metadata embedded in the image.

Precedence (first non-empty wins): ``<stem>.json`` (its ``caption`` field), ``<stem>.txt``,
XMP ``dc:description``, EXIF ``ImageDescription``.
"""

from __future__ import annotations

import html
import json
import re

from PIL import Image

from mmingest.pipelines.jsonlimits import JsonTooDeep, load_json
from mmingest.pipelines.text import normalise_text
from mmingest.schemas.errors import InvalidInput

_EXIF_IMAGE_DESCRIPTION = 0x010E
_XMP_DESCRIPTION = re.compile(
    rb"<dc:description[^>]*>.*?<rdf:li[^>]*>(.*?)</rdf:li>", re.DOTALL | re.IGNORECASE
)
_XMP_DESCRIPTION_ATTRIBUTE = re.compile(rb'dc:description="([^"]*)"', re.IGNORECASE)
_XMP_TIFF_TAG = 700


class SidecarError(InvalidInput):
    """A caption sidecar exists but cannot be used; fix or remove it."""


def clean_caption(text: str | None, *, max_chars: int) -> str | None:
    """Whitespace-normalised caption without control characters (see
    :func:`~mmingest.pipelines.text.normalise_text`) cut to ``max_chars``, or None when empty."""
    if text is None:
        return None
    cleaned = " ".join(normalise_text(text).split())
    if not cleaned:
        return None
    return cleaned[:max_chars]


class CaptionTruncated(InvalidInput):
    """A caption longer than ``ingest.max_caption_chars`` was cut (reported as a warning)."""


def truncation_warning(text: str | None, *, max_chars: int) -> CaptionTruncated | None:
    """The warning for ``text`` when :func:`clean_caption` cuts it, else None."""
    if text is None or len(text) <= max_chars:
        return None
    length = len(" ".join(normalise_text(text).split()))
    if length <= max_chars:
        return None
    return CaptionTruncated(
        f"the caption has {length:,} characters and was cut to {max_chars:,} "
        "(ingest.max_caption_chars): the rest is neither embedded nor searchable"
    )


def _decode_text(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SidecarError(
            f"caption sidecar {name} is not UTF-8 text (invalid byte at offset {error.start}): "
            "save it as UTF-8"
        ) from error


def caption_from_sidecar(name: str, data: bytes) -> str | None:
    """The caption a sidecar file holds (``.txt``: its text; ``.json``: its ``caption``)."""
    text = _decode_text(data, name)
    if not name.lower().endswith(".json"):
        return text
    try:
        document = load_json(text, f"caption sidecar {name}")
    except JsonTooDeep as error:
        raise SidecarError(str(error)) from None
    except json.JSONDecodeError as error:
        raise SidecarError(
            f"caption sidecar {name} is not valid JSON ({error.msg} at line {error.lineno}): "
            'expected {"caption": "..."}'
        ) from error
    if not isinstance(document, dict):
        raise SidecarError(
            f'caption sidecar {name} must be a JSON object like {{"caption": "..."}}'
        )
    caption = document.get("caption")
    if caption is None:
        return None
    if not isinstance(caption, str):
        raise SidecarError(f"caption sidecar {name}: 'caption' must be a string")
    return caption


def _xmp_packet(image: Image.Image) -> bytes | None:
    for key in ("xmp", "XML:com.adobe.xmp"):
        value = image.info.get(key)
        if isinstance(value, bytes | bytearray):
            return bytes(value)
        if isinstance(value, str):
            return value.encode("utf-8")
    tags = getattr(image, "tag_v2", None)
    if tags is not None:
        value = tags.get(_XMP_TIFF_TAG)
        if isinstance(value, bytes | bytearray):
            return bytes(value)
    return None


def caption_from_metadata(image: Image.Image) -> str | None:
    """The description embedded in the image: XMP ``dc:description``, else EXIF."""
    packet = _xmp_packet(image)
    if packet:
        match = _XMP_DESCRIPTION.search(packet) or _XMP_DESCRIPTION_ATTRIBUTE.search(packet)
        if match:
            text = html.unescape(match.group(1).decode("utf-8", errors="replace")).strip()
            if text:
                return text
    try:
        description = image.getexif().get(_EXIF_IMAGE_DESCRIPTION)
    except (OSError, SyntaxError, ValueError):
        return None  # unreadable EXIF is not worth failing an otherwise good image for
    if isinstance(description, bytes):
        description = description.decode("utf-8", errors="replace")
    return description.strip("\x00 ").strip() or None if isinstance(description, str) else None
