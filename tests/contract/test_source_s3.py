"""S3 against the source contract, on two real S3-API servers started by fixtures: moto and
npm's s3rver (what the bench reads from). Where s3rver differs, its :class:`Behaviour` or the
harness says so."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import pytest

from mmingest.connectors.sources import open_source
from mmingest.schemas.config import S3SourceConfig, SourceConfig
from tests.contract.source_contract import Behaviour, SourceContract, SourceHarness
from tests.contract.source_harness import CANARY
from tests.emulators.faulty_proxy import FaultyProxy
from tests.support.s3 import S3Server

BEHAVIOURS = {
    # Neither server checks SigV4 signatures (the proxy answers 403 the way S3 does for a
    # wrong secret). moto refuses keys with a newline; s3rver stores them, lists keys
    # folder-first rather than in byte order and has no ACLs: every bucket answers unsigned
    # requests (PutBucketAcl is not implemented), so its "public" bucket is a plain one.
    "moto_server": Behaviour(newline_keys="refused", checks_credentials=False),
    "s3rver": Behaviour(checks_credentials=False, byte_order=False),
}
"""Where each S3-API server differs from S3, by :attr:`S3Server.name`."""


class S3Harness(SourceHarness):
    name = "s3"
    settings = "s3"

    def __init__(self, server: S3Server) -> None:
        self.server = server
        self.name = f"s3 ({server.name})"
        self.behaviour = BEHAVIOURS[server.name]
        self.acls = server.name != "s3rver"
        self.bucket = server.new_bucket()
        self.client = server.client()

    def put(self, key: str, data: bytes, metadata: Mapping[str, str] | None = None) -> None:
        self.client.put_object(
            Bucket=self.bucket, Key=key, Body=data, Metadata=dict(metadata or {})
        )

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def _config(self, endpoint: str, **s3: object) -> SourceConfig:
        config = self.server.source_config()
        values = {**config.s3.model_dump(), "endpoint": endpoint, **s3}
        return config.model_copy(update={"s3": S3SourceConfig(**values)})

    def source(self, *, page_size: int = 1000):
        config = self._config(self.server.endpoint).model_copy(update={"list_page_size": page_size})
        return open_source(f"s3://{self.bucket}", config)

    @contextmanager
    def proxied(self, *, page_size: int = 1000, max_retries: int = 3) -> Iterator[tuple]:
        with FaultyProxy(self.server.endpoint) as proxy:
            proxy.page_size = page_size
            config = self._config(proxy.url).model_copy(
                update={"list_page_size": page_size, "max_retries": max_retries}
            )
            yield proxy, open_source(f"s3://{self.bucket}", config)

    @contextmanager
    def wrong_credentials(self) -> Iterator[tuple]:
        with FaultyProxy(self.server.endpoint) as proxy:
            proxy.always("status", lambda method, path: True, status=403)
            config = self._config(proxy.url, secret_access_key=CANARY)
            yield proxy, open_source(f"s3://{self.bucket}", config), CANARY

    def public_source(self, objects: Mapping[str, bytes]):
        bucket = self.server.new_bucket()
        acl = {"ACL": "public-read"} if self.acls else {}
        if acl:
            self.client.put_bucket_acl(Bucket=bucket, **acl)
        for key, data in objects.items():
            self.client.put_object(Bucket=bucket, Key=key, Body=data, **acl)
        config = SourceConfig(
            s3=S3SourceConfig(
                endpoint=self.server.endpoint, region="us-east-1", anonymous=True, allow_http=True
            ),
            max_retries=1,
        )
        return open_source(f"s3://{bucket}", config)

    def missing_source(self):
        return open_source("s3://no-such-bucket", self.server.source_config())


@pytest.fixture(params=["s3_server", "s3rver_server"], ids=["moto", "s3rver"])
def harness(request):
    return S3Harness(request.getfixturevalue(request.param))


class TestS3SourceContract(SourceContract):
    pass
