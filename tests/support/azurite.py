"""A real Azure Blob API server (the npm ``azurite``) for tests, started on a free port.

``.ci/run`` installs azurite from npm into ``~/.cache/mmingest-ci/azurite``; a developer can do
the same (or have ``azurite-blob`` on PATH). Without node the tests skip with that reason;
with node but no azurite they fail, so CI can never skip Azure silently.
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mmingest.schemas.config import AzureSourceConfig, SourceConfig
from tests.support.ports import free_port, stop, wait_for_port

ACCOUNT = "devstoreaccount1"
# Azurite's documented, public development account key (not a secret).
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
AZURITE_VERSION = "3.35.0"
CACHE = Path.home() / ".cache" / "mmingest-ci" / "azurite"
INSTALL = f'npm install --prefix "{CACHE}" azurite@{AZURITE_VERSION}'
_CONTAINERS = itertools.count(1)


def azurite_command() -> list[str]:
    """How to run azurite's blob server here (skips when node is absent)."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the Azure Blob contract needs npm's azurite")
    for candidate in (
        CACHE / "node_modules" / ".bin" / "azurite-blob",
        shutil.which("azurite-blob"),
    ):
        if candidate and Path(candidate).exists():
            return [str(candidate)]
    pytest.fail(f"azurite is not installed; run: {INSTALL} (CI does it in .ci/run)")


@dataclass
class AzuriteServer:
    """A running azurite blob server."""

    endpoint: str
    """``http://127.0.0.1:PORT/devstoreaccount1``: path-style, the account in the path."""

    def client(self, **options: Any) -> Any:
        """An azure-storage-blob service client for arranging test data."""
        from azure.storage.blob import BlobServiceClient

        return BlobServiceClient(
            self.endpoint, credential={"account_name": ACCOUNT, "account_key": ACCOUNT_KEY}
        )

    def new_container(self, *, public: bool = False) -> str:
        """Create an empty container (anonymously readable when ``public``)."""
        name = f"container-{next(_CONTAINERS)}"
        self.client().create_container(name, public_access="container" if public else None)
        return name

    def source_config(self, **azure: Any) -> SourceConfig:
        """Source settings pointing mmingest at this server with the development account."""
        values = {
            "account_name": ACCOUNT,
            "account_key": ACCOUNT_KEY,
            "endpoint": self.endpoint,
            "allow_http": True,
            **azure,
        }
        return SourceConfig(azure=AzureSourceConfig(**values), max_retries=1, timeout_s=20)


def start_azurite() -> Iterator[AzuriteServer]:
    """Start azurite's blob server in memory on a free port; stop it afterwards."""
    command = azurite_command()
    port = free_port()
    process = subprocess.Popen(
        [
            *command,
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(port),
            "--inMemoryPersistence",
            "--silent",
            "--disableTelemetry",
            # the SDK used to arrange data may speak a newer API version than the server knows
            "--skipApiVersionCheck",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=tempfile.gettempdir(),  # azurite writes a debug-less workspace marker into cwd
    )
    wait_for_port(process, port, "azurite", timeout=60)
    try:
        yield AzuriteServer(f"http://127.0.0.1:{port}/{ACCOUNT}")
    finally:
        stop(process)
