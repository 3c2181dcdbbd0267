"""``mmingest doctor``: check configuration, store, model and source before a long run."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dotenv import dotenv_values
from pydantic_settings import BaseSettings

from mmingest.connectors.embedders import build_embedder
from mmingest.connectors.sources import open_source
from mmingest.connectors.stores import build_store
from mmingest.schemas.embedding import InputKind
from mmingest.schemas.errors import MmingestError
from mmingest.schemas.settings import CONFIG_FILE_VARIABLE, DEFAULT_CONFIG_FILE, Settings


@dataclass(frozen=True)
class Check:
    """The outcome of one check."""

    name: str
    ok: bool
    detail: str


def _guarded(name: str, run: Callable[[], str]) -> Check:
    try:
        return Check(name, True, run())
    except MmingestError as error:
        return Check(name, False, error.message)
    except Exception as error:  # doctor reports, it does not crash
        return Check(name, False, f"{type(error).__name__}: {error}")


def check_config(settings: Settings) -> Check:
    """Where configuration came from."""
    config_file = Path(os.environ.get(CONFIG_FILE_VARIABLE, DEFAULT_CONFIG_FILE))
    sources = [f"{config_file} " + ("(found)" if config_file.is_file() else "(absent)")]
    if Path(".env").is_file():
        sources.append(".env (found)")
    variables = sorted(name for name in os.environ if name.startswith("MMINGEST_"))
    sources.append(
        f"{len(variables)} MMINGEST_* variables"
        + (f": {', '.join(variables)}" if variables else "")
    )
    return Check("configuration", True, "; ".join(sources))


@dataclass(frozen=True)
class Changed:
    """A setting whose value differs from the default, and where that value came from."""

    name: str
    value: Any
    origin: str


class _Defaults(Settings):
    """Settings with nothing read: the defaults (derived values included)."""

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: Any, *_: Any, **__: Any
    ) -> tuple[Any, ...]:
        return (init_settings,)


def changed_settings(settings: Settings) -> list[Changed]:
    """Every setting that differs from its default, with its origin: an ``MMINGEST_*``
    variable, ``.env``, the TOML file, or ``derived`` (computed from other settings, or the
    default of a different backend ``kind``). Secrets stay masked."""
    defaults = _flat(_Defaults().redacted())
    current = _flat(settings.redacted())
    toml_file = Path(os.environ.get(CONFIG_FILE_VARIABLE) or DEFAULT_CONFIG_FILE)
    toml = _flat(_read_toml(toml_file))
    dotenv = dict(dotenv_values(".env")) if Path(".env").is_file() else {}
    changed = []
    for name, value in current.items():
        if name in defaults and defaults[name] == value:
            continue
        changed.append(Changed(name, value, _origin(name, toml, toml_file, dotenv)))
    return changed


def _origin(name: str, toml: dict[str, Any], toml_file: Path, dotenv: dict[str, Any]) -> str:
    for variables, where in ((os.environ, "the environment"), (dotenv, ".env")):
        for variable in variables:
            rest = variable.upper().removeprefix("MMINGEST_")
            if rest != variable.upper() and rest.lower().replace("__", ".") in _prefixes(name):
                return f"{variable} in {where}"
    if any(prefix in toml for prefix in _prefixes(name)):
        return str(toml_file)
    return "derived"


def _prefixes(name: str) -> set[str]:
    parts = name.split(".")
    return {".".join(parts[: i + 1]) for i in range(len(parts))}


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    with path.open("rb") as file:
        return tomllib.load(file)


def _flat(data: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(data, dict):
        return {prefix: data}
    flat: dict[str, Any] = {}
    for key, value in data.items():
        flat.update(_flat(value, f"{prefix}{key}."))
    return {name.rstrip("."): value for name, value in flat.items()}


def check_store(settings: Settings) -> Check:
    """The store opens, and what collections it holds."""

    def run() -> str:
        store = build_store(settings.store)
        try:
            names = store.list_collections()
            parts = []
            for name in names:
                spec = store.collection_spec(name)
                embedder = f", {spec.embedder}" if spec else ""
                parts.append(f"{name} ({store.count(name):,} points{embedder})")
            listing = "; ".join(parts) if parts else "no collections yet"
            return f"{settings.store.kind} opened: {listing}"
        finally:
            store.close()

    return _guarded("store", run)


def check_embedder(settings: Settings) -> Check:
    """The model loads (or the provider accepts the credentials), and its vector space."""

    def run() -> str:
        embedder = build_embedder(settings.embedder)
        try:
            info = embedder.info
            # One short query: a provider proves the key and endpoint (a few tokens at most).
            embedder.embed_texts(["mmingest doctor"], kind=InputKind.QUERY)
            billed = ", ".join(f"{n} {u}" for u, n in embedder.usage().billed_units.items())
            probe = f"; a test query was embedded ({billed})" if billed else ""
            return f"{info.provider}:{info.model} ready, {info.dimension}-d {info.distance}{probe}"
        finally:
            embedder.close()

    return _guarded("embedder", run)


def check_source(uri: str, settings: Settings) -> Check:
    """The source can be listed, with the configured endpoint and credentials."""

    def run() -> str:
        source = open_source(uri, settings.source)
        try:
            source.precheck()
            first = next(iter(source.list()), None)
            return f"{source.uri} is listable" + ("" if first else " (but empty)")
        finally:
            source.close()

    return _guarded("source", run)


def run_checks(settings: Settings, *, source: str | None, model: bool) -> list[Check]:
    """Every applicable check, in order."""
    checks = [check_config(settings), check_store(settings)]
    if model:
        checks.append(check_embedder(settings))
    if source:
        checks.append(check_source(source, settings))
    return checks
