"""The error hierarchy every layer speaks.

Two families decide what the pipeline does with a failure:

- :class:`TransientError` — the same call may succeed later (rate limits, unavailable services,
  dropped connections). Callers retry with backoff; after the last attempt the affected objects
  are dead-lettered, never dropped.
- :class:`TerminalError` — retrying cannot help. :class:`InvalidInput` concerns one object
  (corrupt image, broken PDF, malformed record): that object is dead-lettered and the run goes on.
  Every other terminal error (bad configuration, wrong credentials, schema mismatch) stops the run
  at once, because it would fail every remaining object the same way.

Connectors translate SDK exceptions into these at their boundary; nothing above ``connectors/``
catches an SDK type. Messages say what failed, on which object, and what to do about it.
"""

from __future__ import annotations

import math
from typing import Any


class MmingestError(Exception):
    """Base of every error mmingest raises on purpose."""

    retryable: bool = False

    def __init__(self, message: str, *, uri: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.uri = uri

    @property
    def reason(self) -> str:
        """A short machine-friendly name for the failure, e.g. ``corrupt_image``."""
        name = type(self).__name__
        return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")

    def __reduce__(self) -> tuple[Any, ...]:
        # Subclasses take other arguments than ``args`` (MissingExtra), so the default
        # ``cls(*args)`` fails to unpickle them: rebuild without calling __init__, so every
        # error survives crossing a process (a Prefect task runner, a process pool).
        return (_rebuild, (type(self), self.args, self.__dict__))


def _rebuild(kind: type[MmingestError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    error = kind.__new__(kind)
    error.args = args
    error.__dict__.update(state)
    return error


class TransientError(MmingestError):
    """The operation may succeed if retried later."""

    retryable = True


class TerminalError(MmingestError):
    """Retrying cannot help."""


# --- transient -------------------------------------------------------------------------------


MAX_RETRY_AFTER_S = 120.0
"""The longest a provider's or store's Retry-After is honoured (one wait, and the pause every
request of a shared rate limiter takes)."""


def capped_wait(seconds: float | None) -> float | None:
    """``seconds`` as a wait within ``[0, MAX_RETRY_AFTER_S]``; None for NaN or None.

    Retry-After values come from the network: ``inf`` and ``86400`` become the cap, negative
    values zero, NaN no value at all.
    """
    if seconds is None or math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


class RateLimited(TransientError):
    """A provider or store asked us to slow down (HTTP 429 or equivalent)."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, uri: str | None = None
    ) -> None:
        super().__init__(message, uri=uri)
        self.retry_after = capped_wait(retry_after)


class ProviderUnavailable(TransientError):
    """An embedding provider timed out, dropped the connection or answered 5xx."""


class StoreUnavailable(TransientError):
    """A vector store could not be reached or failed a request it may accept later."""


class SourceUnavailable(TransientError):
    """Object storage could not be listed or read right now."""


# --- terminal, per object ----------------------------------------------------------------------


class InvalidInput(TerminalError):
    """One object cannot be ingested as it is; it is dead-lettered and the run continues."""


class EmptyObject(InvalidInput):
    """The object has zero bytes."""


class UnsupportedFormat(InvalidInput):
    """The bytes are not in a format this pipeline reads (e.g. a text file named ``.png``)."""


class CorruptImage(InvalidInput):
    """The image header or data is damaged or truncated."""


class DecompressionBomb(InvalidInput):
    """The image declares more pixels than the configured limit allows."""


class ObjectTooLarge(InvalidInput):
    """The object exceeds a configured size limit."""


class ObjectVanished(InvalidInput):
    """The object was listed but was gone (deleted or replaced) when it was read."""


class UnreadableMetadata(InvalidInput):
    """The object's stored metadata cannot be decoded (e.g. a raw non-ASCII header value)."""


class RefusedObject(InvalidInput):
    """The object is not one a source may read: a link leading out of the source (or out of
    the folders catalog references may use), or a device, FIFO, socket or other special file.
    It is reported, never read."""


class InputRejected(InvalidInput):
    """An embedding provider refused this input (its format, size, length or content)."""


# --- terminal, stops the run -------------------------------------------------------------------


class ConfigError(TerminalError):
    """The configuration is invalid or incomplete."""


class MissingExtra(ConfigError, ImportError):
    """An optional dependency is not installed: the message names the extra that brings it.

    Also an ``ImportError``, so code that guards an optional import keeps working."""

    def __init__(self, what: str, extra: str, module: str | None = None) -> None:
        needs = f"{module!r} (not installed)" if module else "an optional dependency"
        super().__init__(f"{what} needs {needs}: pip install 'mmingest[{extra}]'")
        self.extra = extra
        self.module = module


class ModelUnavailable(TerminalError):
    """A local model cannot be loaded (not cached, not downloadable, or not a supported model)."""


class AuthenticationFailed(TerminalError):
    """Credentials were rejected; every further call would fail the same way."""


class SchemaMismatch(TerminalError):
    """A collection exists with a different embedder, dimension or layout than requested."""


class CapabilityMissing(TerminalError):
    """The chosen store or provider does not support what was asked of it."""


class StoreLocked(TerminalError):
    """An embedded store's files are held by another process."""


class StorageFault(TerminalError):
    """Local storage the run writes to failed (disk full, file unwritable, directory removed):
    what was written after the fault is not durable, so the run stops."""


class CollectionNotFound(TerminalError):
    """The collection (or alias) does not exist in the store."""
