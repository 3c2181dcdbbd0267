"""Bucket credentials from Prefect collection blocks, mapped onto our source settings.

``secret_blocks`` may name, for a whole source, a ``prefect-aws`` ``AwsCredentials`` block
(``source.s3``), a ``prefect-gcp`` ``GcpCredentials`` block (``source.gcs``) or a
``prefect-azure`` ``AzureBlobStorageCredentials`` block (``source.azure``). Only the block
fields our source settings can express are mapped; a block whose form we cannot use (an inline
service-account key, a service principal, an account URL alone) is a :class:`ConfigError`
rather than a run that silently falls back to other credentials.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from pydantic import SecretStr

from mmingest.schemas.errors import ConfigError

_AWS_FIELDS = {
    "aws_access_key_id": "access_key_id",
    "aws_secret_access_key": "secret_access_key",
    "aws_session_token": "session_token",
    "region_name": "region",
}

# Connection-string keys (Azure's "Key=value;..." form) and the AzureSourceConfig field each sets.
_AZURE_KEYS = {
    "accountname": "account_name",
    "accountkey": "account_key",
    "sharedaccesssignature": "sas_token",
    "blobendpoint": "endpoint",
}


def _plain(value: Any) -> Any:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def aws_values(block: Any) -> dict[str, Any]:
    """``source.s3`` settings from a loaded ``AwsCredentials`` block."""
    found: dict[str, Any] = {}
    for attribute, setting in _AWS_FIELDS.items():
        value = _plain(getattr(block, attribute, None))
        if value:
            found[f"source.s3.{setting}"] = value
    endpoint = getattr(getattr(block, "aws_client_parameters", None), "endpoint_url", None)
    if endpoint:
        found["source.s3.endpoint"] = str(endpoint)
    return found


def gcp_values(block: Any, name: str) -> dict[str, Any]:
    """``source.gcs`` settings from a loaded ``GcpCredentials`` block: its key file path."""
    if getattr(block, "service_account_info", None):
        raise ConfigError(
            f"the GcpCredentials block {name!r} holds an inline service_account_info key, which "
            "the GCS source cannot take (it reads a key file): save the block with "
            "service_account_file (a path present on every worker), or drop it from "
            "secret_blocks and give workers GOOGLE_SERVICE_ACCOUNT_PATH or application default "
            "credentials"
        )
    path = getattr(block, "service_account_file", None)
    if not path:
        raise ConfigError(
            f"the GcpCredentials block {name!r} holds no service_account_file: workers would "
            "use their application default credentials anyway, so drop it from secret_blocks "
            "or save the block with a key file path"
        )
    return {"source.gcs.service_account_path": str(path)}


def _connection_string(text: str, name: str) -> dict[str, Any]:
    parts: dict[str, str] = {}
    for item in text.split(";"):
        key, separator, value = item.partition("=")
        if separator:
            parts[key.strip().lower()] = value.strip()
    found: dict[str, Any] = {}
    if parts.get("usedevelopmentstorage", "").lower() == "true":
        found["source.azure.use_emulator"] = True
    if parts.get("defaultendpointsprotocol", "").lower() == "http":
        found["source.azure.allow_http"] = True
    for key, setting in _AZURE_KEYS.items():
        if parts.get(key):
            found[f"source.azure.{setting}"] = parts[key]
    if not found:
        raise ConfigError(
            f"the AzureBlobStorageCredentials block {name!r} has a connection string without "
            "AccountName, AccountKey, SharedAccessSignature, BlobEndpoint or "
            "UseDevelopmentStorage: save a storage account connection string in it"
        )
    return found


def azure_values(block: Any, name: str) -> dict[str, Any]:
    """``source.azure`` settings from a loaded ``AzureBlobStorageCredentials`` block: its
    connection string (account name and key, or a SAS token; endpoint; emulator)."""
    text = _plain(getattr(block, "connection_string", None))
    if text:
        return _connection_string(str(text), name)
    raise ConfigError(
        f"the AzureBlobStorageCredentials block {name!r} has no connection string: the Azure "
        "source cannot use an account URL with DefaultAzureCredential or a service principal "
        "(client_id, tenant_id, client_secret). Save the block with a connection string, or "
        "give workers AZURE_STORAGE_ACCOUNT_NAME and AZURE_STORAGE_ACCOUNT_KEY"
    )


# Source setting -> (module, block class, extra to install, mapping of the loaded block).
COLLECTIONS: dict[str, tuple[str, str, str, Callable[[Any, str], dict[str, Any]]]] = {
    "source.s3": ("prefect_aws", "AwsCredentials", "prefect-aws", lambda b, _: aws_values(b)),
    "source.gcs": ("prefect_gcp", "GcpCredentials", "prefect-gcp", gcp_values),
    "source.azure": (
        "prefect_azure",
        "AzureBlobStorageCredentials",
        "prefect-azure",
        azure_values,
    ),
}


def collection_block_values(path: str, name: str) -> dict[str, Any]:
    """Setting values from the collection block ``name`` for the source ``path``."""
    module_name, class_name, extra, mapping = COLLECTIONS[path]
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ConfigError(
            f"secret_blocks names a {class_name} block ({name!r}) for {path} but {extra} is "
            f"not installed on this worker: pip install 'mmingest[{extra}]'"
        ) from error
    block = getattr(module, class_name).load(name, _sync=True)
    return mapping(block, name)
