"""Thread-safe log of the requests the emulator received, for test assertions."""

from __future__ import annotations

import threading
from typing import Any, NamedTuple


class RecordedRequest(NamedTuple):
    """One received request.

    ``channel`` is ``"http"`` or ``"grpc"``; ``method`` is ``"POST /v1/schema"`` (query string
    included when present) or the gRPC method such as ``"weaviate.v1.Weaviate/Search"``;
    ``body`` is the parsed JSON body (``None`` if empty) or the request message as a dict
    (``MessageToDict`` with proto field names).
    """

    channel: str
    method: str
    body: Any


class RequestLog:
    """Append-only, lock-protected list of :class:`RecordedRequest`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[RecordedRequest] = []

    def add(self, channel: str, method: str, body: Any) -> None:
        """Record one request."""
        with self._lock:
            self._items.append(RecordedRequest(channel, method, body))

    def snapshot(self) -> list[RecordedRequest]:
        """A copy of everything recorded so far."""
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        """Forget every recorded request."""
        with self._lock:
            self._items.clear()
