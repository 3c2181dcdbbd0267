"""A second real S3-API server for tests and the bench: npm's ``s3rver``, started on a free port.

``.ci/run`` installs s3rver from npm into ``~/.cache/mmingest-ci/s3rver``; a developer can do the
same (or have ``s3rver`` on PATH). Without node the tests skip with that reason; with node but
no s3rver they fail, so CI can never skip it silently.

s3rver serves from a folder (a temporary one here). It knows one key pair, ``S3RVER``/``S3RVER``
(lib/models/account.js): another access key id is refused, but a SigV4 signature is not checked
(lib/middleware/authentication.js), so a wrong secret passes, as with moto. It serves unsigned
requests for every bucket and has no ACLs (``PutBucketAcl`` is not implemented).
It costs about a third less CPU per GET than moto's Python server (~1.0 vs ~1.5 ms for a
136 KB object here), which matters when the server shares the machine with what is measured
(bench/images.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tests.support.ports import free_port, stop, wait_for_port
from tests.support.s3 import S3Server

S3RVER_VERSION = "3.7.1"
CACHE = Path.home() / ".cache" / "mmingest-ci" / "s3rver"
INSTALL = f'npm install --prefix "{CACHE}" s3rver@{S3RVER_VERSION}'
ACCESS_KEY = SECRET_KEY = "S3RVER"
"""s3rver's only key pair (hard-coded in lib/models/account.js; not a secret)."""


def find_s3rver() -> str | None:
    """The s3rver executable (the CI cache first, then PATH), or None when not installed."""
    cached = CACHE / "node_modules" / ".bin" / "s3rver"
    if cached.exists():
        return str(cached)
    return shutil.which("s3rver")


def s3rver_command() -> list[str]:
    """How to run s3rver here (skips when node is absent, fails when s3rver is)."""
    import pytest

    if shutil.which("node") is None:
        pytest.skip("node is not installed: the s3rver S3-API server is an npm package")
    found = find_s3rver()
    if found is None:
        pytest.fail(f"s3rver is not installed; run: {INSTALL} (CI does it in .ci/run)")
    return [found]


def start_s3rver(command: list[str] | None = None) -> Iterator[S3Server]:
    """Start s3rver over a temporary folder on a free port; stop it (and remove the folder)
    afterwards. ``command`` defaults to :func:`s3rver_command` (which skips or fails a test)."""
    command = command or s3rver_command()
    port = free_port()
    # s3rver 3.7 encrypts ListObjectsV2 continuation tokens with DES, which Node 17+ (OpenSSL 3)
    # only offers from the legacy provider: without it every listing past one page fails.
    env = {**os.environ, "NODE_OPTIONS": "--openssl-legacy-provider"}
    with tempfile.TemporaryDirectory(prefix="s3rver-") as directory:
        process = subprocess.Popen(
            [
                *command,
                "--directory",
                directory,
                "--address",
                "127.0.0.1",
                "--port",
                str(port),
                "--silent",
                "--no-vhost-buckets",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
        )
        wait_for_port(process, port, "s3rver", timeout=60)
        try:
            yield S3Server(
                f"http://127.0.0.1:{port}",
                process,
                access_key=ACCESS_KEY,
                secret_key=SECRET_KEY,
                name="s3rver",
            )
        finally:
            stop(process)
