"""Flow-run parameters: typed, secret-free, turned into Settings once per process.

A flow run's parameters are stored by the Prefect server in plain text, so they never carry a
credential: a secret value in ``settings`` is refused, and credentials come from the worker's
own environment or from Prefect blocks named in ``secret_blocks`` (a ``Secret`` block, or a
collection's credentials block for a bucket source: see :mod:`mmingest.flows.credential_blocks`),
read by each process that needs them. Deployments enforce a parameter schema that forbids every
secret setting (:func:`settings_schema`), so the server refuses such a run before storing it.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, cast

from pydantic import BaseModel, ConfigDict, Field, SecretStr, WithJsonSchema

from mmingest.flows.credential_blocks import COLLECTIONS, collection_block_values
from mmingest.schemas.errors import ConfigError
from mmingest.schemas.settings import Settings
from mmingest.schemas.settings_sources import models_in


class RunParameters(BaseModel):
    """Settings a flow run changes on top of the worker's own (no credentials)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    settings: dict[str, Any] = Field(
        default_factory=dict,
        description="Non-secret settings on top of the worker's MMINGEST_* configuration, "
        'nested as in mmingest.toml, e.g. {"ingest": {"batch_size": 32}}.',
    )
    secret_blocks: dict[str, str] = Field(
        default_factory=dict,
        description="Credentials from Prefect blocks: a dotted setting name and the name of a "
        'Secret block, e.g. {"embedder.api_key": "cohere-key"}; or "source.s3", "source.gcs" or '
        '"source.azure" and the name of an AwsCredentials (prefect-aws), GcpCredentials '
        "(prefect-gcp) or AzureBlobStorageCredentials (prefect-azure) block.",
    )


def _is_secret(annotation: Any) -> bool:
    return annotation is SecretStr or SecretStr in typing.get_args(annotation)


def secret_paths(model: type[BaseModel] = Settings, prefix: str = "") -> set[str]:
    """Dotted names of every secret setting (``embedder.api_key``, ``source.s3.session_token``)."""
    found: set[str] = set()
    for name, info in model.model_fields.items():
        if _is_secret(info.annotation):
            found.add(prefix + name)
        for nested in models_in(info.annotation):
            found |= secret_paths(nested, f"{prefix}{name}.")
    return found


def _forbidding(tree: Mapping[str, Any]) -> dict[str, Any]:
    leaves = sorted(name for name, below in tree.items() if not below)
    schema: dict[str, Any] = {}
    if leaves:
        # propertyNames, not the values: the server's refusal names the key, never echoes it.
        schema["propertyNames"] = {"not": {"enum": leaves}}
    nested = {name: _forbidding(below) for name, below in sorted(tree.items()) if below}
    if nested:
        schema["properties"] = nested
    return schema


def settings_schema(prefix: str = "") -> dict[str, Any]:
    """JSON schema of a settings mapping that forbids every secret setting.

    For the ``settings`` flow parameter (or, with ``prefix="embedder."``, the part under a
    prefix). A deployment enforces its parameter schema on the Prefect server, so a run whose
    parameters carry a credential is refused when it is created and nothing is stored; the
    run-time :func:`refuse_secrets` stays as a second line for runs created without one."""
    tree: dict[str, Any] = {}
    for path in secret_paths():
        if path.startswith(prefix):
            node = tree
            for name in path[len(prefix) :].split("."):
                node = node.setdefault(name, {})
    return {"type": "object", **_forbidding(tree)}


SettingsParameter = Annotated[
    dict[str, Any] | None,
    WithJsonSchema({"anyOf": [settings_schema(), {"type": "null"}], "default": None}),
]
"""The ``settings`` flow parameter: non-secret settings, nested as in mmingest.toml."""

EmbedderParameter = Annotated[dict[str, Any], WithJsonSchema(settings_schema("embedder."))]
"""The ``embedder`` parameter of ``reembed``: embedder settings without credentials."""


def _walk(values: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for name, value in values.items():
        if isinstance(value, Mapping):
            yield from _walk(value, f"{prefix}{name}.")
        else:
            yield prefix + name, value


def refuse_secrets(values: Mapping[str, Any], *, where: str = "settings") -> None:
    """Raise :class:`ConfigError` if ``values`` set any secret setting."""
    secrets = secret_paths()
    given = sorted(path for path, value in _walk(values) if path in secrets and value)
    if given:
        raise ConfigError(
            f"the flow-run parameter {where!r} sets {', '.join(given)}: run parameters are "
            "stored in plain text by the Prefect server, so credentials are refused there. "
            "Give them to the worker (MMINGEST_* variables) or name a Prefect block in "
            "secret_blocks, e.g. {" + f'"{given[0]}": "my-secret-block"' + "}"
        )


def _set(values: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    for name in parents:
        values = values.setdefault(name, {})
    values[leaf] = value


def _block_values(path: str, block: str) -> dict[str, Any]:
    """Setting values from the Prefect block ``block`` for ``path``."""
    if path in COLLECTIONS:
        return collection_block_values(path, block)
    if path not in secret_paths():
        raise ConfigError(
            f"secret_blocks: {path!r} is not a secret setting; known ones: "
            + ", ".join(sorted(secret_paths()))
        )
    from prefect.blocks.system import Secret

    secret = cast(Any, Secret).load(block, _sync=True)  # the block class, loaded synchronously
    return {path: secret.get()}


def settings_for(parameters: RunParameters) -> Settings:
    """This process's settings (its own environment and blocks) with the run's on top.

    Read where the work runs, never shipped: a Dask worker on another machine uses its own
    credentials."""
    refuse_secrets(parameters.settings)
    values = json.loads(json.dumps(parameters.settings))  # a deep copy
    for path, block in sorted(parameters.secret_blocks.items()):
        for setting, value in _block_values(path, block).items():
            _set(values, setting, value)
    return Settings(**values)
