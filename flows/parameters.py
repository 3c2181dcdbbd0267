"""Flow-run parameters: typed, secret-free, turned into Settings once per process.

A flow run's parameters are stored by the Prefect server in plain text, so they never carry a
credential: a secret value in ``settings`` is refused, and credentials come from the worker's
own environment or from Prefect blocks named in ``secret_blocks`` (a ``Secret`` block, or a
``prefect-aws`` ``AwsCredentials`` block for the S3 source), read by each process that needs them.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Iterator, Mapping
from typing import Any, cast

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from mmingest.schemas.errors import ConfigError
from mmingest.schemas.settings import Settings

_AWS_FIELDS = {
    "aws_access_key_id": "access_key_id",
    "aws_secret_access_key": "secret_access_key",
    "aws_session_token": "session_token",
    "region_name": "region",
}


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
        'Secret block, e.g. {"embedder.api_key": "cohere-key"}; or "source.s3" and the name of '
        "an AwsCredentials block (prefect-aws).",
    )


def _models(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, typing.Annotated):
        for argument in typing.get_args(annotation):
            yield from _models(argument)


def _is_secret(annotation: Any) -> bool:
    return annotation is SecretStr or SecretStr in typing.get_args(annotation)


def secret_paths(model: type[BaseModel] = Settings, prefix: str = "") -> set[str]:
    """Dotted names of every secret setting (``embedder.api_key``, ``source.s3.session_token``)."""
    found: set[str] = set()
    for name, info in model.model_fields.items():
        if _is_secret(info.annotation):
            found.add(prefix + name)
        for nested in _models(info.annotation):
            found |= secret_paths(nested, f"{prefix}{name}.")
    return found


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
    if path == "source.s3":
        try:
            from prefect_aws import AwsCredentials  # type: ignore[import-untyped,import-not-found,unused-ignore]
        except ImportError as error:
            raise ConfigError(
                f"secret_blocks names an AwsCredentials block ({block!r}) but prefect-aws is "
                "not installed on this worker: pip install 'mmingest[prefect-aws]'"
            ) from error
        credentials = AwsCredentials.load(block, _sync=True)
        found: dict[str, Any] = {}
        for attribute, setting in _AWS_FIELDS.items():
            value = getattr(credentials, attribute, None)
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            if value:
                found[f"source.s3.{setting}"] = value
        endpoint = getattr(credentials.aws_client_parameters, "endpoint_url", None)
        if endpoint:
            found["source.s3.endpoint"] = str(endpoint)
        return found
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
