"""Text from the outside world: one normaliser for what is stored, one escape for terminals.

Captions, titles, PDF text and product fields come from files anyone may have written (EXIF,
XMP, sidecars, catalogs, PDFs). Control characters in them are never content: an ESC starts a
terminal escape sequence (``ESC[2J`` clears the screen of whoever prints a hit), NUL truncates
strings in C-based tools, and the bidirectional overrides make text display in another order
than it is stored (the "Trojan Source" trick). :func:`normalise_text` drops them at ingest, so
nothing stored carries them; :func:`terminal_safe` makes whatever still reaches a terminal
(object keys, payloads written by other tools, error messages quoting content) visible instead
of interpreted.
"""

from __future__ import annotations

import re
from typing import Any

# C0 controls except tab and newline, DEL, the C1 controls (U+0080-U+009F: U+009B is a
# one-character CSI on many terminals), and the bidi embeddings/overrides/isolates.
_UNSAFE = "\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
_UNSAFE_CHARACTERS = re.compile(f"[{_UNSAFE}]")
# On a terminal, newline and tab are layout too (a forged extra table row or log line).
_UNSAFE_ON_TERMINAL = re.compile(f"[{_UNSAFE}\t\n]")
# Carriage return is dropped by the normaliser too, but "\r\n" first becomes "\n".
_CRLF = re.compile(r"\r\n?")


def normalise_text(text: str) -> str:
    """``text`` without control characters (NUL, ESC, C1, bidi overrides), keeping newline and
    tab; a carriage return becomes a newline."""
    if text.isascii() and text.isprintable():
        return text  # printable ASCII holds none of them (the common case, checked in C)
    return _UNSAFE_CHARACTERS.sub("", _CRLF.sub("\n", text))


_SCALARS = frozenset({int, float, bool, type(None)})


def normalise_value(value: Any) -> Any:
    """:func:`normalise_text` applied to every string in a JSON-like value (keys included)."""
    if type(value) in _SCALARS:
        return value
    if isinstance(value, str):
        return normalise_text(value)
    if isinstance(value, dict):
        return {normalise_value(key): normalise_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [normalise_value(item) for item in value]
    return value


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(text: str, *, multiline: bool = False) -> str:
    """``text`` with every control character shown as an escape (``\\x1b``, ``\\u202e``), so a
    terminal prints it instead of obeying it; ``multiline`` keeps newlines and tabs."""
    pattern = _UNSAFE_CHARACTERS if multiline else _UNSAFE_ON_TERMINAL
    return pattern.sub(_visible, text)
