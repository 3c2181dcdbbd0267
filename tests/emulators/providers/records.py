"""The data an emulator passes around: incoming requests, replies, errors, log and counters."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit


class ProviderError(Exception):
    """Raised by a handler to answer with a provider-shaped error body."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body
        self.headers = headers or {}


@dataclass
class RecordedRequest:
    """One request as the emulator saw it; secrets are redacted, ``status`` filled on reply."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    body_size: int
    received_at: float
    fault: str | None = None
    status: int | None = None


@dataclass(frozen=True)
class IncomingRequest:
    """What a route handler gets: the raw request plus its JSON body when it had one."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names, real values
    raw: bytes
    json: Any
    json_error: str | None
    params: dict[str, str]  # named groups of the matched route

    def header(self, name: str) -> str | None:
        """Header value by case-insensitive name."""
        return self.headers.get(name.lower())


@dataclass
class Reply:
    """A successful answer plus what it did: inputs embedded and units billed."""

    body: dict[str, Any]
    inputs: int = 0
    billed: dict[str, int] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Counters:
    """Totals since start (or the last ``reset``)."""

    requests_received: int = 0
    requests_served: int = 0  # answered 2xx with embeddings (malformed/truncated included)
    errors_sent: int = 0  # any non-2xx answer, injected or not
    rate_limited: int = 0  # 429s sent, from fail_next or from the quota
    dropped: int = 0  # connections closed without an answer
    inputs_embedded: int = 0
    billed_units: dict[str, int] = field(default_factory=dict)
    max_in_flight: int = 0  # the most requests being handled at one time


def parse_request(method: str, target: str, headers: dict[str, str], raw: bytes) -> IncomingRequest:
    """Split the request target and parse a JSON body when the client sent one."""
    parts = urlsplit(target)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    content_type = headers.get("content-type", "")
    parsed: Any = None
    error: str | None = None
    if raw and ("json" in content_type or not content_type):
        try:
            parsed = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            error = str(exc)
    return IncomingRequest(method, unquote(parts.path), query, headers, raw, parsed, error, {})
