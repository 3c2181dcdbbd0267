"""Translate weaviate-client exceptions into mmingest errors.

The client already retries gRPC ``UNAVAILABLE`` a few times with backoff; what reaches this
module has exhausted that.
"""

from __future__ import annotations

from mmingest.schemas.errors import (
    AuthenticationFailed,
    CollectionNotFound,
    InvalidInput,
    MmingestError,
    RateLimited,
    StoreUnavailable,
)

_TRANSIENT = ("unavailable", "deadline", "timeout", "timed out", "connection", "try again")
_INPUT = ("vector", "invalid", "property", "length", "unmarshal", "type", "validat")


def translate(error: Exception, action: str, collection: str, where: str) -> MmingestError:
    """An mmingest error for an exception raised by weaviate-client."""
    if isinstance(error, MmingestError):
        return error
    from weaviate.exceptions import (
        InsufficientPermissionsError,
        UnexpectedStatusCodeError,
        WeaviateConnectionError,
        WeaviateStartUpError,
        WeaviateTimeoutError,
    )

    detail = str(error).strip() or type(error).__name__
    text = detail.lower()
    message = f"Weaviate at {where} failed to {action} on {collection!r}: {detail}"
    status = error.status_code if isinstance(error, UnexpectedStatusCodeError) else None
    if (
        isinstance(error, InsufficientPermissionsError)
        or status in (401, 403)
        or ("unauthenticated" in text or "api key" in text)
    ):
        return AuthenticationFailed(
            f"Weaviate at {where} rejected the credentials while trying to {action}: check "
            f"MMINGEST_STORE__API_KEY ({detail})"
        )
    if status == 404 or "could not find class" in text or "not found in schema" in text:
        return CollectionNotFound(
            f"collection {collection!r} does not exist in Weaviate at {where}: ingest into it "
            f"first, or check MMINGEST_COLLECTION ({detail})"
        )
    if status == 429 or "rate limit" in text:
        return RateLimited(message)
    if isinstance(error, (WeaviateConnectionError, WeaviateStartUpError, WeaviateTimeoutError)):
        return StoreUnavailable(message)
    if status is not None and status >= 500:
        return StoreUnavailable(message)
    if any(word in text for word in _TRANSIENT):
        return StoreUnavailable(message)
    if status is not None or any(word in text for word in _INPUT):
        return InvalidInput(message)
    return StoreUnavailable(message)
