"""Run the emulator standalone: ``python -m tests.emulators.weaviate --http-port 8080``."""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading

from .server import DEFAULT_VERSION, WeaviateEmulator


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, start the emulator and serve until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser(description="In-process Weaviate protocol emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--http-port", type=int, default=8080)
    parser.add_argument("--grpc-port", type=int, default=50051)
    parser.add_argument("--version", default=DEFAULT_VERSION, help="version /v1/meta reports")
    args = parser.parse_args(argv)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with WeaviateEmulator(
        host=args.host, http_port=args.http_port, grpc_port=args.grpc_port, version=args.version
    ) as emulator:
        print(
            f"weaviate emulator {args.version}: REST {emulator.url}, "
            f"gRPC {emulator.host}:{emulator.grpc_port}",
            flush=True,
        )
        with contextlib.suppress(KeyboardInterrupt):
            done.wait()


if __name__ == "__main__":
    main()
