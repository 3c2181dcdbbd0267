"""Translate pymilvus exceptions into mmingest errors.

pymilvus already retries unavailable servers and rate limits inside each call, until the
call's timeout; what reaches this module has exhausted that.
"""

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

_AUTH_WORDS = ("auth", "credential", "unauthenticated", "permission denied", "privilege")
_INPUT_CODES = {6, 1100}  # invalid argument (Lite), ParameterInvalid (server)


def translate(error: Exception, action: str, collection: str, where: str) -> MmingestError:
    """An mmingest error for an exception raised by pymilvus (or gRPC under it)."""
    if isinstance(error, MmingestError):
        return error
    from pymilvus.exceptions import (
        ConnectError,
        ConnectionConfigException,
        MilvusException,
        MilvusUnavailableException,
        ParamError,
    )

    if isinstance(error, MilvusException):
        code, detail = error.code, error.message or str(error)
    elif hasattr(error, "code") and callable(error.code):  # grpc.RpcError
        code, detail = None, f"gRPC {getattr(error.code(), 'name', '?')}: {error}"
    else:
        code, detail = None, str(error) or type(error).__name__
    text = detail.lower()
    message = f"Milvus at {where} failed to {action} on {collection!r}: {detail}"
    if isinstance(error, ConnectionConfigException) and "open local milvus" in text:
        return StoreLocked(
            f"Milvus Lite could not open {where}: it is used by another process (Milvus Lite "
            "allows one process per file), or it is not a Milvus Lite file"
        )
    if code == 100 or "not exist" in text or ("not found" in text and "collection" in text):
        return CollectionNotFound(
            f"collection {collection!r} does not exist in Milvus at {where}: ingest into it "
            f"first, or check MMINGEST_COLLECTION ({detail})"
        )
    if any(word in text for word in _AUTH_WORDS):
        return AuthenticationFailed(
            f"Milvus at {where} rejected the credentials while trying to {action}: check "
            f"MMINGEST_STORE__TOKEN ({detail})"
        )
    if code == 8 or "rate limit" in text:
        return RateLimited(message)
    if isinstance(error, (ConnectError, MilvusUnavailableException)) or (
        isinstance(error, MilvusException) and error.retriable
    ):
        return StoreUnavailable(message)
    if isinstance(error, ParamError) or code in _INPUT_CODES or _is_input_error(error):
        return InvalidInput(message)
    return StoreUnavailable(message)


def _is_input_error(error: Exception) -> bool:
    return bool(getattr(error, "is_input_error", False))
