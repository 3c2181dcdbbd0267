"""A real S3-API server (moto) for tests: started once per session, a fresh bucket per test.

:class:`S3Server` is shared by every S3-API server the tests and the bench start (moto here,
npm's s3rver in :mod:`tests.support.s3rver`); each carries the credentials its server accepts.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from mmingest.schemas.config import S3SourceConfig, SourceConfig
from tests.support.ports import free_port, stop, wait_for_port

ACCESS_KEY = "testing-access-key"
SECRET_KEY = "testing-secret-key"
_BUCKETS = itertools.count(1)


@dataclass
class S3Server:
    """A running S3-API server and the credentials it accepts."""

    endpoint: str
    process: subprocess.Popen[bytes]
    """The server's own process (what the bench measures the server's CPU on)."""
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY
    name: str = "moto_server"
    """What serves the API (``moto_server``, ``s3rver``), for test ids and bench details."""

    def client(self) -> Any:
        """A boto3 client for arranging test data.

        Checksums only when an operation requires them: botocore's default (CRC32 trailers in
        aws-chunked bodies) is more than some S3-API servers (s3rver) understand.
        """
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name="us-east-1",
            config=Config(
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )

    def source_config(self) -> SourceConfig:
        """Source settings pointing mmingest at this server."""
        return SourceConfig(
            s3=S3SourceConfig(
                endpoint=self.endpoint,
                region="us-east-1",
                access_key_id=self.access_key,
                secret_access_key=self.secret_key,
                allow_http=True,
            ),
            max_retries=1,
            timeout_s=20,
        )

    def put_many(self, bucket: str, objects: dict[str, bytes]) -> None:
        """Upload many objects concurrently."""
        from concurrent.futures import ThreadPoolExecutor

        client = self.client()
        with ThreadPoolExecutor(16) as pool:
            list(
                pool.map(
                    lambda item: client.put_object(Bucket=bucket, Key=item[0], Body=item[1]),
                    objects.items(),
                )
            )

    def new_bucket(self) -> str:
        """Create an empty bucket and return its name."""
        name = f"bucket-{next(_BUCKETS)}"
        self.client().create_bucket(Bucket=name)
        return name


def start_s3_server() -> Iterator[S3Server]:
    """Start ``moto_server`` in its own process on a free port; stop it afterwards.

    A separate process keeps the server's request handling off the test process's GIL, which
    makes concurrent reads several times faster than moto's in-process threaded server.
    """
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    wait_for_port(process, port, "moto_server", timeout=30)
    try:
        yield S3Server(endpoint, process)
    finally:
        stop(process)
