"""Translate provider failures into mmingest errors, without ever carrying a secret along.

Every provider connector ends up here with an HTTP status and the provider's message:

- 401/403: :class:`AuthenticationFailed` — the run stops at the first one;
- 429: :class:`RateLimited` with the provider's Retry-After;
- 408, 5xx, timeouts, dropped connections, unreadable replies: :class:`ProviderUnavailable`;
- 404: :class:`ConfigError` (a model or endpoint that does not exist stops the run);
- other 4xx: :class:`InputRejected`, one bad input, which the pipeline isolates by bisection.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Iterable, Mapping
from typing import Any

from mmingest.schemas.errors import (
    AuthenticationFailed,
    ConfigError,
    InputRejected,
    MmingestError,
    ProviderUnavailable,
    RateLimited,
    capped_wait,
)

_MAX_MESSAGE = 500
REDACTED = "[REDACTED]"


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret replaced, shortened to a readable length."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), if any.

    The value is capped at :data:`MAX_RETRY_AFTER_S` (``86400`` or ``inf`` must not stall a
    run for a day) and garbage (``nan``, negative, an unparseable date) reads as no header.
    """
    if not headers:
        return None
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if value is None:
        return None
    value = str(value).strip()[:100]
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(value)
            seconds = moment.timestamp() - time.time()
        except (TypeError, ValueError, OverflowError, IndexError):
            return None
        return capped_wait(max(0.0, seconds))
    return capped_wait(seconds) if seconds >= 0 else None


def message_of(body: Any, fallback: str) -> str:
    """The human part of a provider's error body (``message``, ``detail``, ``error.message``)."""
    if isinstance(body, Mapping):
        error = body.get("error")
        if isinstance(error, Mapping) and error.get("message"):
            return str(error["message"])
        for key in ("message", "detail"):
            if body.get(key):
                return str(body[key])
    if isinstance(body, str) and body.strip():
        return body
    return fallback


def for_status(
    provider: str,
    status: int | None,
    message: str,
    *,
    headers: Mapping[str, str] | None = None,
    auth_hint: str = "",
    secrets: Iterable[str] = (),
) -> MmingestError:
    """The mmingest error for a provider's HTTP ``status`` and ``message``."""
    message = scrub(message, secrets)
    said = f"{provider} answered {status}: {message}" if status else f"{provider}: {message}"
    if status in (401, 403):
        return AuthenticationFailed(f"{said}. The credentials were rejected; {auth_hint}".rstrip())
    if status == 429:
        wait = retry_after(headers)
        return RateLimited(said, retry_after=wait)
    if status is None or status in (200, 408, 409) or status >= 500:
        return ProviderUnavailable(said)
    if status == 404:
        return ConfigError(f"{said} (check embedder.model and the endpoint)")
    return InputRejected(said)


def unavailable(
    provider: str, what: str, error: BaseException, secrets: Iterable[str] = ()
) -> ProviderUnavailable:
    """A transport failure (timeout, refused or dropped connection, unreadable reply)."""
    detail = scrub(str(error) or type(error).__name__, secrets)
    return ProviderUnavailable(f"{provider} {what}: {detail}")
