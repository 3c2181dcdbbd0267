"""Run one provider emulator standalone: ``python -m tests.emulators.providers cohere --port N``."""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading

from . import PROVIDERS


def main(argv: list[str] | None = None) -> None:
    """Start the chosen emulator and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m tests.emulators.providers")
    parser.add_argument("provider", choices=sorted(PROVIDERS))
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--api-key", default=None, help="key (or Vertex token) clients must send")
    parser.add_argument(
        "--rate-limit", type=int, default=None, metavar="RPM", help="requests per minute quota"
    )
    args = parser.parse_args(argv)

    cls = PROVIDERS[args.provider]
    kwargs = {"host": args.host, "port": args.port}
    emulator = cls(args.api_key, **kwargs) if args.api_key else cls(**kwargs)
    if args.rate_limit:
        emulator.rate_limit(args.rate_limit)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with emulator:
        print(
            f"{args.provider} emulator on {emulator.url} (SDK base URL {emulator.base_url}), "
            f"api key {emulator.api_key!r}",
            flush=True,
        )
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()


if __name__ == "__main__":
    main()
