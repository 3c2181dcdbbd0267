"""The loopback HTTP server and its per-connection handler.

The handler reads a request, hands it to the emulator and writes (or, under a fault, mangles)
the reply.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from .faults import Fault, FaultKind
from .records import ProviderError, parse_request

if TYPE_CHECKING:
    from .base import ProviderEmulator
    from .records import Reply


class EmulatorRequestHandler(BaseHTTPRequestHandler):
    """Speaks HTTP/1.1 with keep-alive, as the SDKs' pooled clients expect."""

    protocol_version = "HTTP/1.1"
    server_version = "mmingest-provider-emulator/1"
    # Idle keep-alive connections give up after this long, so handler threads end.
    timeout = 30

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, alive=True)  # type: ignore[attr-defined]

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        self.server.track(self.connection, alive=False)  # type: ignore[attr-defined]

    def handle(self) -> None:
        try:
            super().handle()
        except OSError:
            # A client that timed out or hung up is a normal part of fault tests.
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    @property
    def emulator(self) -> ProviderEmulator:
        return self.server.emulator  # type: ignore[attr-defined,no-any-return]

    def _serve(self) -> None:
        self.emulator._arrived()
        try:
            self._handle()
        finally:
            self.emulator._done()

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        request = parse_request(self.command, self.path, headers, raw)
        emulator = self.emulator
        fault = emulator._take_fault()
        entry = emulator._record(request, fault)

        if fault is not None and fault.kind is FaultKind.DROP:
            emulator._account_drop(entry)
            self._hang_up()
            return
        if fault is not None and fault.kind is FaultKind.DELAY:
            emulator._wait(fault.seconds)

        try:
            reply = emulator._process(request, fault)
        except ProviderError as exc:
            emulator._account(entry, exc.status, None)
            self._send(exc.status, _dumps(exc.body), exc.headers)
            return
        emulator._account(entry, 200, reply)
        self._send_reply(reply, fault)

    def _send_reply(self, reply: Reply, fault: Fault | None) -> None:
        if fault is not None and fault.kind is FaultKind.REWRITTEN and fault.rewrite is not None:
            self._send(200, _dumps(fault.rewrite(reply.body)), reply.headers)
            return
        payload = _dumps(reply.body)
        if fault is not None and fault.kind is FaultKind.MALFORMED:
            # Half a JSON document with a matching Content-Length: transport fine, parse fails.
            self._send(200, payload[: max(1, len(payload) // 2)], reply.headers)
            return
        if fault is not None and fault.kind is FaultKind.TRUNCATED:
            self._send_head(200, len(payload), reply.headers)
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
            self._hang_up()
            return
        self._send(200, payload, reply.headers)

    def _send(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
        self._send_head(status, len(payload), headers)
        self.wfile.write(payload)
        self.wfile.flush()

    def _send_head(self, status: int, length: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(length))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def _hang_up(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


def _dumps(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


class LoopbackServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that knows its emulator and can close live connections."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        emulator: ProviderEmulator,
    ) -> None:
        self.emulator = emulator
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, handler)

    def track(self, sock: socket.socket, *, alive: bool) -> None:
        """Remember (or forget) a client connection so stop() can close it."""
        with self._open_lock:
            if alive:
                self._open.add(sock)
            else:
                self._open.discard(sock)

    def close_connections(self) -> None:
        """Shut down every client connection still open (idle keep-alives included)."""
        with self._open_lock:
            sockets, self._open = list(self._open), set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out or hang up mid-reply are expected here, not failures.
        pass
