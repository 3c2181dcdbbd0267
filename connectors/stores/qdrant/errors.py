"""Translate qdrant-client's exceptions (REST, gRPC and local mode) into mmingest errors."""

from __future__ import annotations

from mmingest.schemas.errors import (
    AuthenticationFailed,
    CollectionNotFound,
    InvalidInput,
    MmingestError,
    RateLimited,
    StoreLocked,
    StoreUnavailable,
)

_GRPC_CODES = {
    "NOT_FOUND": CollectionNotFound,
    "UNAUTHENTICATED": AuthenticationFailed,
    "PERMISSION_DENIED": AuthenticationFailed,
    "RESOURCE_EXHAUSTED": RateLimited,
    "INVALID_ARGUMENT": InvalidInput,
    "FAILED_PRECONDITION": InvalidInput,
}


def _for_status(status: int) -> type[MmingestError]:
    if status == 404:
        return CollectionNotFound
    if status in (401, 403):
        return AuthenticationFailed
    if status == 429:
        return RateLimited
    if 400 <= status < 500 and status not in (408, 409):
        return InvalidInput
    return StoreUnavailable


def translate(error: Exception, action: str, collection: str, where: str) -> MmingestError:
    """An mmingest error for an exception raised by qdrant-client."""
    if isinstance(error, MmingestError):
        return error
    from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

    kind: type[MmingestError] = StoreUnavailable
    detail = str(error).strip() or type(error).__name__
    if isinstance(error, UnexpectedResponse):
        kind = _for_status(error.status_code or 500)
        detail = f"HTTP {error.status_code}: {error.content.decode(errors='replace')[:500]}"
    elif isinstance(error, ResponseHandlingException):
        kind = StoreUnavailable
    elif hasattr(error, "code") and callable(error.code):  # grpc.RpcError
        code = getattr(error.code(), "name", "UNKNOWN")
        kind = _GRPC_CODES.get(code, StoreUnavailable)
        details = error.details() if hasattr(error, "details") else None
        detail = f"gRPC {code}: {details or detail}"
    elif isinstance(error, ValueError):  # local mode speaks ValueError
        kind = CollectionNotFound if detail.endswith("not found") else InvalidInput
    elif isinstance(error, RuntimeError) and "already accessed" in detail:
        return StoreLocked(
            f"the Qdrant local-mode directory {where} is used by another process; local mode "
            "allows one process per directory: stop it, or use a Qdrant server"
        )
    if kind is CollectionNotFound:
        return CollectionNotFound(
            f"collection {collection!r} does not exist in Qdrant at {where}: ingest into it "
            f"first, or check MMINGEST_COLLECTION ({detail})"
        )
    if kind is AuthenticationFailed:
        return AuthenticationFailed(
            f"Qdrant at {where} rejected the credentials while trying to {action}: check "
            f"MMINGEST_STORE__API_KEY ({detail})"
        )
    return kind(f"Qdrant at {where} failed to {action} on {collection!r}: {detail}")
