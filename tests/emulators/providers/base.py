"""The base class every provider emulator builds on.

A provider subclass declares its routes, how it authenticates and how its errors look; this base
runs a threaded loopback server, records every request, applies injected faults and the optional
sliding-window quota, and keeps the counters tests and benchmarks assert on.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, ClassVar, Self

from .faults import Fault, FaultKind, FaultQueue, SlidingWindowLimiter, retry_after_header
from .records import Counters, IncomingRequest, ProviderError, RecordedRequest, Reply
from .server import EmulatorRequestHandler, LoopbackServer

# Header values never kept in the request log, whichever provider receives them.
SECRET_HEADERS = frozenset(
    {"authorization", "ocp-apim-subscription-key", "x-dashscope-apikey", "x-api-key", "api-key"}
)
REDACTED = "[REDACTED]"

_DEFAULT_MESSAGES = {
    429: "Too many requests: rate limit exceeded",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}


Handler = Callable[[IncomingRequest], Reply]


class ProviderEmulator:
    """Base class: a loopback HTTP server speaking one provider's embedding API."""

    provider: ClassVar[str] = "base"
    #: Path an SDK's base URL must include (e.g. "/v1" for Voyage).
    api_prefix: ClassVar[str] = ""

    def __init__(self, api_key: str = "test-key", *, host: str = "127.0.0.1", port: int = 0):
        self.api_key = api_key
        self.host = host
        self.port = port
        self._server: LoopbackServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._faults = FaultQueue()
        self._limiter: SlidingWindowLimiter | None = None
        self._log: list[RecordedRequest] = []
        self._counters = Counters()
        self._in_flight = 0
        self._assets: dict[str, bytes] = {}
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        #: Unexpected exceptions raised by handlers (each was answered with a 500).
        self.internal_errors: list[Exception] = []

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind (ephemeral port unless one was given) and serve in a background thread."""
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = LoopbackServer((self.host, self.port), EmulatorRequestHandler, self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name=f"{self.provider}-emulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, end delayed replies early and close open connections."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Root URL, e.g. ``http://127.0.0.1:54321``."""
        if self._server is None:
            raise RuntimeError(f"{self.provider} emulator is not running; call start()")
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The URL to hand the provider's SDK as its base URL override."""
        return self.url + self.api_prefix

    # -- observation -----------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of the request log, oldest first."""
        with self._lock:
            return list(self._log)

    @property
    def counters(self) -> Counters:
        """A snapshot of the counters."""
        with self._lock:
            return replace(self._counters, billed_units=dict(self._counters.billed_units))

    def reset(self) -> None:
        """Forget the log, counters, queued faults and quota (keeps key and assets)."""
        with self._lock:
            self._log.clear()
            self._counters = Counters()
            self._limiter = None
        self._faults.clear()
        self.internal_errors.clear()

    def register_asset(self, url: str, data: bytes) -> None:
        """Make ``url`` (https://..., gs://...) fetchable by the emulated service."""
        self._assets[url] = data

    def fetch_asset(self, url: str) -> bytes | None:
        """Bytes registered for ``url``, or None (the service could not download it)."""
        return self._assets.get(url)

    # -- fault injection -------------------------------------------------------------------

    def fail_next(self, n: int = 1, status: int = 429, retry_after: float | None = None) -> None:
        """Answer the next ``n`` requests with ``status`` in the provider's error shape."""
        if status < 400:
            raise ValueError(f"fail_next needs an error status, got {status}")
        self._faults.push(Fault(FaultKind.FAIL, status=status, retry_after=retry_after), n)

    def delay_next(self, n: int, seconds: float) -> None:
        """Hold the next ``n`` replies for ``seconds`` before answering normally."""
        self._faults.push(Fault(FaultKind.DELAY, seconds=seconds), n)

    def malformed_next(self, n: int = 1) -> None:
        """Answer the next ``n`` requests 200 with a body that is not valid JSON."""
        self._faults.push(Fault(FaultKind.MALFORMED), n)

    def rewrite_next(self, rewrite: Callable[[Any], Any], n: int = 1) -> None:
        """Answer the next ``n`` requests 200 with ``rewrite(real body)`` as valid JSON."""
        self._faults.push(Fault(FaultKind.REWRITTEN, rewrite=rewrite), n)

    def truncated_next(self, n: int = 1) -> None:
        """Send the next ``n`` replies cut mid-body under the full Content-Length."""
        self._faults.push(Fault(FaultKind.TRUNCATED), n)

    def drop_next(self, n: int = 1) -> None:
        """Close the connection of the next ``n`` requests without answering."""
        self._faults.push(Fault(FaultKind.DROP), n)

    def pending_faults(self) -> int:
        """Faults queued but not yet taken by a request."""
        return self._faults.pending()

    def rate_limit(self, requests_per_minute: int | None, *, window_seconds: float = 60.0) -> None:
        """Enforce a sliding-window quota (429 + Retry-After past it); None lifts it.

        ``window_seconds`` shortens the window for fast tests: the quota is then
        ``requests_per_minute`` requests per ``window_seconds``.
        """
        limiter = None
        if requests_per_minute is not None:
            limiter = SlidingWindowLimiter(requests_per_minute, window_seconds)
        with self._lock:
            self._limiter = limiter

    # -- what subclasses provide -----------------------------------------------------------

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        """Register ``handler`` for ``method`` on paths fully matching regex ``pattern``."""
        self._routes.append((method.upper(), re.compile(pattern), handler))

    def authenticate(self, request: IncomingRequest) -> None:
        """Raise a ProviderError when the request's credentials are missing or wrong."""
        raise NotImplementedError

    def error_body(self, status: int, message: str, code: str | None = None) -> dict[str, Any]:
        """The provider's JSON error body for ``status``."""
        raise NotImplementedError

    def error(
        self,
        status: int,
        message: str,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> ProviderError:
        """Build (not raise) a provider-shaped error."""
        return ProviderError(status, self.error_body(status, message, code), headers)

    def rate_limit_error(self, retry_after: float | None) -> ProviderError:
        """The provider's 429; override to word it like the provider does."""
        headers = {} if retry_after is None else {"Retry-After": retry_after_header(retry_after)}
        return self.error(429, _DEFAULT_MESSAGES[429], headers=headers)

    # -- request pipeline (called from handler threads) ------------------------------------

    def _record(self, request: IncomingRequest, fault: Fault | None) -> RecordedRequest:
        headers = {
            name: (REDACTED if name in SECRET_HEADERS else value)
            for name, value in request.headers.items()
        }
        entry = RecordedRequest(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers=headers,
            body=request.json,
            body_size=len(request.raw),
            received_at=time.monotonic(),
            fault=fault.kind.value if fault else None,
        )
        with self._lock:
            self._log.append(entry)
            self._counters.requests_received += 1
        return entry

    def _take_fault(self) -> Fault | None:
        return self._faults.take()

    def _arrived(self) -> None:
        with self._lock:
            self._in_flight += 1
            self._counters.max_in_flight = max(self._counters.max_in_flight, self._in_flight)

    def _done(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _wait(self, seconds: float) -> None:
        # Interruptible, so stop() never waits out a long injected delay.
        self._stopping.wait(seconds)

    def _process(self, request: IncomingRequest, fault: Fault | None) -> Reply:
        """Faults, auth, quota, routing, then the provider handler; raises ProviderError."""
        if fault is not None and fault.kind is FaultKind.FAIL:
            if fault.status == 429:
                raise self.rate_limit_error(fault.retry_after)
            headers = {}
            if fault.retry_after is not None:
                headers["Retry-After"] = retry_after_header(fault.retry_after)
            message = _DEFAULT_MESSAGES.get(fault.status, f"Injected error {fault.status}")
            raise self.error(fault.status, message, headers=headers)
        handler, params = self._match(request.method, request.path)
        self.authenticate(request)
        with self._lock:
            limiter = self._limiter
        if limiter is not None:
            wait = limiter.admit()
            if wait is not None:
                raise self.rate_limit_error(wait)
        request = replace(request, params=params)
        if request.json_error is not None:
            raise self.error(400, f"invalid JSON body: {request.json_error}")
        try:
            return handler(request)
        except ProviderError:
            raise
        except Exception as exc:
            # An emulator bug must surface as a visible 500, not as a dropped connection.
            self.internal_errors.append(exc)
            raise self.error(500, f"emulator internal error: {exc!r}") from exc

    def _match(self, method: str, path: str) -> tuple[Handler, dict[str, str]]:
        allowed = False
        for route_method, pattern, handler in self._routes:
            match = pattern.fullmatch(path)
            if match:
                if route_method == method:
                    return handler, match.groupdict()
                allowed = True
        if allowed:
            raise self.error(405, f"method {method} is not allowed on {path}")
        raise self.error(404, f"no such endpoint: {method} {path}")

    def _account(self, entry: RecordedRequest, status: int, reply: Reply | None) -> None:
        with self._lock:
            entry.status = status
            if reply is not None:
                self._counters.requests_served += 1
                self._counters.inputs_embedded += reply.inputs
                for unit, amount in reply.billed.items():
                    billed = self._counters.billed_units
                    billed[unit] = billed.get(unit, 0) + amount
            else:
                self._counters.errors_sent += 1
                if status == 429:
                    self._counters.rate_limited += 1

    def _account_drop(self, entry: RecordedRequest) -> None:
        with self._lock:
            self._counters.dropped += 1
