"""Where settings come from, checked: a config file that is named must exist and parse, and a
setting name that mmingest does not know is an error with a suggestion, never silently ignored.

Used by :class:`mmingest.schemas.settings.Settings`; nested tables already refuse unknown keys
(``extra="forbid"``), and :func:`nested_suggestion` names the key meant there.
"""

from __future__ import annotations

import difflib
import tomllib
import types
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic_settings import BaseSettings, TomlConfigSettingsSource

from mmingest.schemas.errors import ConfigError

ENV_PREFIX = "MMINGEST_"
NOT_SETTINGS = ("CONFIG", "TEST_")  # prefixes of the rest of the name
"""``MMINGEST_*`` names that are no setting: the config file's path, and the test suite's
``MMINGEST_TEST_*_URL`` servers."""


class CheckedTomlSource(TomlConfigSettingsSource):
    """The TOML file source, with a syntax error reported as one line naming file and line."""

    def __init__(self, settings_cls: type[BaseSettings], toml_file: Path, *, named: bool) -> None:
        if named and not toml_file.is_file():
            raise ConfigError(
                f"the config file {toml_file} (named by MMINGEST_CONFIG) does not exist: create "
                "it, or unset MMINGEST_CONFIG to use ./mmingest.toml and the defaults"
            )
        try:
            super().__init__(settings_cls, toml_file=toml_file)
        except tomllib.TOMLDecodeError as error:
            # tomllib's message ends with "(at line N, column M)".
            raise ConfigError(f"{toml_file}: not valid TOML: {error}") from None
        self.file = toml_file


def suggestion(name: str, known: Iterable[str], *, shown: str = "{!r}") -> str:
    """``" (did you mean 'x'?)"`` for the closest known name, or ``""``; ``shown`` formats
    the name (``"[{}]"`` for a TOML table)."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean {shown.format(close[0])}?)" if close else ""


def unknown_settings(
    settings_cls: type[BaseModel],
    *,
    arguments: Mapping[str, Any],
    environment: Iterable[str],
    dotenv: Iterable[str],
    toml: Mapping[str, Any],
    toml_file: Path,
) -> list[str]:
    """A line for every top-level setting name that ``settings_cls`` does not have."""
    fields = set(settings_cls.model_fields)
    env_names = {ENV_PREFIX + name.upper() for name in fields}
    problems = [
        f"unknown setting {name!r} (argument){suggestion(name, fields)}"
        for name in arguments
        if name not in fields and not name.startswith("_")
    ]
    for where, names in (("environment", environment), (".env", dotenv)):
        for raw in names:
            name = raw.upper()
            rest = name.removeprefix(ENV_PREFIX)
            if rest == name or rest.startswith(NOT_SETTINGS):
                continue
            if rest.split("__")[0].lower() in fields:
                continue  # the nested part is checked by the nested model (extra="forbid")
            head = ENV_PREFIX + rest.split("__")[0]
            problems.append(f"unknown setting {name} ({where}){suggestion(head, env_names)}")
    for key, value in toml.items():
        if key not in fields:
            table = isinstance(value, dict)
            shown = f"[{key}]" if table else f"{key} ="
            hint = suggestion(key, fields, shown="[{}]" if table else "'{} ='")
            problems.append(f"unknown setting {shown} in {toml_file}{hint}")
    return problems


def nested_suggestion(settings_cls: type[BaseModel], loc: tuple[int | str, ...]) -> str:
    """For an unknown nested key at ``loc`` (a validation error's location), the suggestion
    naming the closest key of the model it sits in (a union member's tag is part of ``loc``)."""
    models: list[type[BaseModel]] = [settings_cls]
    for part in loc[:-1]:
        tagged = [m for m in models if _tag(m) == part]
        if tagged:
            models = tagged
            continue
        nested = [
            inner
            for model in models
            if isinstance(part, str) and part in model.model_fields
            for inner in models_in(model.model_fields[part].annotation)
        ]
        if not nested:
            return ""
        models = nested
    known = {name for model in models for name in model.model_fields}
    return suggestion(str(loc[-1]), known)


def _tag(model: type[BaseModel]) -> Any:
    field = model.model_fields.get("kind")
    return field.default if field is not None else None


def models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation can hold (unions and ``Annotated`` unwrapped)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return models_in(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [model for arg in typing.get_args(annotation) for model in models_in(arg)]
    return []
