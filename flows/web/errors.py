"""Refusals of the web API: an HTTP status, a machine-friendly code and a clear message."""

from __future__ import annotations

from mmingest.schemas.errors import MmingestError, TransientError


class ApiError(Exception):
    """A request the server refuses (4xx) or cannot answer right now (5xx)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def from_mmingest(error: MmingestError) -> ApiError:
    """The HTTP answer for an error of the layers below: retry later (503) for a transient
    failure; otherwise the request cannot succeed as sent (422: an invalid query, an unknown
    filter field, an unreadable image)."""
    if isinstance(error, TransientError):
        return ApiError(503, error.reason, f"{error.message} (try again shortly)")
    return ApiError(422, error.reason, error.message)
