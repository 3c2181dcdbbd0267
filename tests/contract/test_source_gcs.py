"""Google Cloud Storage (fake-gcs-server, started by a fixture) against the source contract."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import pytest

from mmingest.connectors.sources import open_source
from mmingest.schemas.config import GcsSourceConfig, SourceConfig
from tests.contract.source_contract import Behaviour, SourceContract, SourceHarness
from tests.emulators.faulty_proxy import FaultyProxy
from tests.support.gcs import GcsServer


def private_key_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


class GcsHarness(SourceHarness):
    name = "gcs"
    settings = "gcs"
    # fake-gcs-server answers every listing in one page and checks no credentials (the proxy
    # answers 401 the way GCS does for a key it does not know).
    behaviour = Behaviour(server_pages=False, checks_credentials=False)

    def __init__(self, server: GcsServer) -> None:
        self.server = server
        self.bucket_name = server.new_bucket()
        self.bucket = server.client().bucket(self.bucket_name)

    def put(self, key: str, data: bytes, metadata: Mapping[str, str] | None = None) -> None:
        blob = self.bucket.blob(key)
        if metadata:
            blob.metadata = dict(metadata)
        blob.upload_from_string(data)

    def delete(self, key: str) -> None:
        self.bucket.blob(key).delete()

    def source(self, *, page_size: int = 1000):
        config = self.server.source_config().model_copy(update={"list_page_size": page_size})
        return open_source(f"gs://{self.bucket_name}", config)

    @contextmanager
    def proxied(self, *, page_size: int = 1000, max_retries: int = 3) -> Iterator[tuple]:
        with FaultyProxy(self.server.endpoint) as proxy:
            proxy.page_size = page_size
            config = self.server.source_config(
                service_account_path=self.server.service_account_file(proxy.url)
            ).model_copy(update={"list_page_size": page_size, "max_retries": max_retries})
            yield proxy, open_source(f"gs://{self.bucket_name}", config)

    @contextmanager
    def wrong_credentials(self) -> Iterator[tuple]:
        # A well-formed service-account key GCS does not know: object_store signs its own JWT
        # with it (no token exchange), and GCS answers 401.
        pem = private_key_pem()
        secret = pem.splitlines()[5]
        with FaultyProxy(self.server.endpoint) as proxy:
            proxy.always("status", lambda method, path: True, status=401)
            key_file = self.server.workspace / "wrong-key.json"
            key_file.write_text(
                json.dumps(
                    {
                        "type": "service_account",
                        "gcs_base_url": proxy.url,
                        "disable_oauth": False,
                        "client_email": "reader@mmingest-test.iam.gserviceaccount.com",
                        "private_key_id": "contract",
                        "private_key": pem,
                    }
                )
            )
            config = self.server.source_config(service_account_path=key_file).model_copy(
                update={"max_retries": 3}
            )
            yield proxy, open_source(f"gs://{self.bucket_name}", config), secret

    def public_source(self, objects: Mapping[str, bytes]):
        name = self.server.new_bucket()
        bucket = self.server.client().bucket(name)
        for key, data in objects.items():
            bucket.blob(key).upload_from_string(data)
        config = SourceConfig(
            gcs=GcsSourceConfig(endpoint=self.server.endpoint, anonymous=True, allow_http=True),
            max_retries=1,
        )
        return open_source(f"gs://{name}", config)

    def missing_source(self):
        return open_source("gs://no-such-bucket", self.server.source_config())


@pytest.fixture
def harness(gcs_server):
    return GcsHarness(gcs_server)


class TestGcsSourceContract(SourceContract):
    pass
