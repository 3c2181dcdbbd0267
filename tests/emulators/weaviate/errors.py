"""Errors raised inside the emulator and how they map onto Weaviate's wire shapes."""

from __future__ import annotations

import grpc


class EmulatorError(Exception):
    """A request the emulated Weaviate server rejects.

    ``status`` is the HTTP status used when the error surfaces on REST, ``grpc_code`` the
    status code used when it surfaces on gRPC. ``message`` is the text Weaviate would send.
    """

    def __init__(
        self,
        message: str,
        status: int = 422,
        grpc_code: grpc.StatusCode = grpc.StatusCode.UNKNOWN,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.grpc_code = grpc_code

    def rest_body(self) -> dict[str, list[dict[str, str]]]:
        """Weaviate's REST error payload: ``{"error": [{"message": ...}]}``."""
        return {"error": [{"message": self.message}]}


class NotFound(EmulatorError):
    """A collection, alias, tenant or object that does not exist (HTTP 404)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=404, grpc_code=grpc.StatusCode.NOT_FOUND)


class Invalid(EmulatorError):
    """A malformed or semantically invalid request (HTTP 422)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=422, grpc_code=grpc.StatusCode.INVALID_ARGUMENT)


class NoVectorizer(EmulatorError):
    """A request that needs a server-side vectorizer module, which the emulator lacks."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"weaviate emulator: {what} needs a server-side vectorizer module; the emulator "
            "has no vectorizer (supply vectors yourself, e.g. near_vector or hybrid(vector=...))",
            status=422,
            grpc_code=grpc.StatusCode.UNIMPLEMENTED,
        )


def no_such_class(name: str) -> NotFound:
    """Weaviate's message for an unknown collection name."""
    return NotFound(
        f"no such class with name '{name}' found in the schema. "
        "Check your schema files for which classes are available"
    )


def no_such_prop(prop: str, class_name: str) -> Invalid:
    """Weaviate's message for an unknown property name."""
    return Invalid(
        f"no such prop with name '{prop}' found in class '{class_name}' in the schema. "
        "Check your schema files for which properties in this class are available"
    )
