"""JSON from untrusted objects, with a nesting limit.

Python's parser recurses once per nesting level: a 10 KB sidecar of ``[[[[...`` raises
``RecursionError`` from deep inside it. :func:`load_json` turns that, and any document nested
deeper than :data:`MAX_JSON_DEPTH`, into a :class:`JsonTooDeep` that callers report against
the sidecar, line or record it came from.
"""

from __future__ import annotations

import json
from typing import Any

MAX_JSON_DEPTH = 64
"""Deepest nesting accepted in sidecars and catalog records (real ones nest 2-4 levels)."""


class JsonTooDeep(ValueError):
    """A JSON document nested deeper than :data:`MAX_JSON_DEPTH`."""


def json_depth(value: Any, *, limit: int = MAX_JSON_DEPTH) -> int:
    """Nesting depth of a parsed JSON value (a scalar is 0), counted up to ``limit + 1``."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((child, depth) for child in children if isinstance(child, dict | list))
    return deepest


def check_depth(value: Any, what: str, *, limit: int = MAX_JSON_DEPTH) -> None:
    """Raise :class:`JsonTooDeep` when ``value`` nests deeper than ``limit``."""
    if json_depth(value, limit=limit) > limit:
        raise JsonTooDeep(
            f"{what} nests JSON values more than {limit} levels deep: refused (real data "
            "nests a few levels; this looks like a broken or hostile file)"
        )


def load_json(text: str | bytes, what: str, *, limit: int | None = MAX_JSON_DEPTH) -> Any:
    """Parse ``text``; raises ``json.JSONDecodeError`` or :class:`JsonTooDeep`.

    ``limit=None`` leaves the depth check to the caller (a catalog checks each record).
    """
    try:
        value = json.loads(text)
    except RecursionError:
        raise JsonTooDeep(
            f"{what} nests JSON values more than {limit or MAX_JSON_DEPTH} levels deep (too "
            "deep to parse): "
            "refused"
        ) from None
    if limit is not None:
        check_depth(value, what, limit=limit)
    return value
