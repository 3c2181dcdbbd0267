"""Refusals of the web API: an HTTP status, a machine-friendly code and a clear message."""

from __future__ import annotations

from mmingest.schemas.errors import ConfigError, InvalidInput, MmingestError, TransientError


class ApiError(Exception):
    """A request the server refuses (4xx) or cannot answer right now (5xx)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def from_mmingest(error: MmingestError) -> ApiError:
    """The HTTP answer for an error of the layers below: retry later (503) for transient
    failures, a bad request (422) for invalid queries and unreadable images."""
    if isinstance(error, TransientError):
        return ApiError(503, error.reason, f"{error.message} (try again shortly)")
    if isinstance(error, ConfigError | InvalidInput):
        return ApiError(422, error.reason, error.message)
    return ApiError(422, error.reason, error.message)
