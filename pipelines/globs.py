"""Include/exclude globs over object keys (``*`` within a segment, ``**`` across segments)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache


@lru_cache(maxsize=256)
def glob_pattern(glob: str) -> re.Pattern[str]:
    """The regular expression of a key glob.

    ``**/`` matches any number of folders (also none), ``**`` anything, ``*`` anything but
    ``/``, ``?`` one character but ``/``, ``[...]`` a character class. A glob without ``/``
    matches the file name in any folder, like ``.gitignore`` patterns.
    """
    if "/" not in glob:
        glob = "**/" + glob
    out = []
    index = 0
    while index < len(glob):
        char = glob[index]
        if glob.startswith("**/", index):
            out.append("(?:.*/)?")
            index += 3
            continue
        if glob.startswith("**", index):
            out.append(".*")
            index += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = glob.find("]", index + 1)
            if end == -1:
                out.append(re.escape(char))
            else:
                body = glob[index + 1 : end].replace("\\", "\\\\")
                out.append(f"[{'^' + body[1:] if body.startswith('!') else body}]")
                index = end
        else:
            out.append(re.escape(char))
        index += 1
    return re.compile("".join(out) + r"\Z")


def selected(key: str, include: Sequence[str], exclude: Sequence[str]) -> bool:
    """Whether ``key`` passes the include globs (all keys when empty) and no exclude glob."""
    if include and not any(glob_pattern(g).match(key) for g in include):
        return False
    return not any(glob_pattern(g).match(key) for g in exclude)
