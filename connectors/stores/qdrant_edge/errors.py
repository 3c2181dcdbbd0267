"""Translate Qdrant Edge's exceptions (it raises plain ``Exception``) into mmingest errors."""

from __future__ import annotations

from mmingest.schemas.errors import InvalidInput, MmingestError, StoreLocked, StoreUnavailable


def translate(error: Exception, action: str, collection: str) -> Exception:
    """An mmingest error for an exception raised by the engine (it raises plain Exception)."""
    if isinstance(error, MmingestError):
        return error
    text = str(error)
    if "WouldBlock" in text or "Can't init WAL" in text:
        return StoreLocked(
            f"collection {collection!r} is open in another process: Qdrant Edge allows one "
            "process per store directory"
        )
    if "dimension error" in text or "Not existing vector name" in text or "parse" in text:
        return InvalidInput(f"Qdrant Edge rejected {action} on {collection!r}: {text}")
    return StoreUnavailable(f"Qdrant Edge failed to {action} on {collection!r}: {text}")
