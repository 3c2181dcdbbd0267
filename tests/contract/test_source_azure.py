"""Azure Blob Storage (npm azurite, started by a fixture) against the source contract."""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest

from mmingest.connectors.sources import open_source
from mmingest.schemas.config import AzureSourceConfig, SourceConfig
from mmingest.schemas.errors import AuthenticationFailed
from tests.contract.source_contract import Behaviour, SourceContract, SourceHarness
from tests.contract.source_harness import CANARY
from tests.emulators.faulty_proxy import FaultyProxy
from tests.support.azurite import ACCOUNT, ACCOUNT_KEY, AzuriteServer


class AzureHarness(SourceHarness):
    name = "azure"
    settings = "azure"
    behaviour = Behaviour()  # azurite checks Shared Key signatures like Azure does

    def __init__(self, server: AzuriteServer) -> None:
        self.server = server
        self.container = server.new_container()
        self.client = server.client().get_container_client(self.container)

    def put(self, key: str, data: bytes, metadata: Mapping[str, str] | None = None) -> None:
        self.client.upload_blob(key, data, overwrite=True, metadata=dict(metadata or {}))

    def delete(self, key: str) -> None:
        self.client.delete_blob(key)

    def source(self, *, page_size: int = 1000):
        config = self.server.source_config().model_copy(update={"list_page_size": page_size})
        return open_source(f"az://{self.container}", config)

    def _sas(self) -> str:
        from azure.storage.blob import ContainerSasPermissions, generate_container_sas

        return str(
            generate_container_sas(
                ACCOUNT,
                self.container,
                account_key=ACCOUNT_KEY,
                permission=ContainerSasPermissions(read=True, list=True),
                expiry=datetime.now(UTC) + timedelta(hours=1),
            )
        )

    @contextmanager
    def proxied(self, *, page_size: int = 1000, max_retries: int = 3) -> Iterator[tuple]:
        # A Shared Key signature covers the query string, so the proxy's page-size rewrite
        # would (rightly) be refused; a SAS token signs only its own parameters.
        with FaultyProxy(self.server.endpoint) as proxy:
            proxy.page_size = page_size
            config = self.server.source_config(
                endpoint=f"{proxy.url}/{ACCOUNT}", account_key=None, sas_token=self._sas()
            ).model_copy(update={"list_page_size": page_size, "max_retries": max_retries})
            yield proxy, open_source(f"az://{self.container}", config)

    @contextmanager
    def wrong_credentials(self) -> Iterator[tuple]:
        secret = base64.b64encode((CANARY * 4).encode()).decode()
        with FaultyProxy(self.server.endpoint) as proxy:  # no fault: azurite refuses itself
            config = self.server.source_config(
                endpoint=f"{proxy.url}/{ACCOUNT}", account_key=secret
            ).model_copy(update={"max_retries": 3})
            yield proxy, open_source(f"az://{self.container}", config), secret

    def public_source(self, objects: Mapping[str, bytes]):
        container = self.server.new_container(public=True)
        client = self.server.client().get_container_client(container)
        for key, data in objects.items():
            client.upload_blob(key, data)
        config = SourceConfig(
            azure=AzureSourceConfig(
                account_name=ACCOUNT,
                endpoint=self.server.endpoint,
                anonymous=True,
                allow_http=True,
            ),
            max_retries=1,
        )
        return open_source(f"az://{container}", config)

    def missing_source(self):
        return open_source("az://no-such-container", self.server.source_config())


@pytest.fixture
def harness(azurite_server):
    return AzureHarness(azurite_server)


class TestAzureSourceContract(SourceContract):
    def test_a_private_container_refuses_anonymous_reads(self, harness):
        harness.put("a.png", b"a")
        config = SourceConfig(
            azure=AzureSourceConfig(
                account_name=ACCOUNT,
                endpoint=harness.server.endpoint,
                anonymous=True,
                allow_http=True,
            ),
            max_retries=1,
        )
        source = open_source(f"az://{harness.container}", config)
        # azurite answers 403 NoAuthenticationInformation: one clear, non-retried error.
        with pytest.raises(AuthenticationFailed, match=f"az://{harness.container}/.*403"):
            source.precheck()
