"""The README's configuration reference covers every setting."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from mmingest.schemas.settings import Settings
from mmingest.schemas.settings_sources import models_in

README = Path(__file__).resolve().parents[2] / "README.md"


def setting_names(model: type[BaseModel] = Settings, prefix: str = "") -> set[str]:
    names: set[str] = set()
    for name, field in model.model_fields.items():
        nested = models_in(field.annotation)
        if nested:
            for member in nested:
                names |= setting_names(member, f"{prefix}{name}.")
        else:
            names.add(prefix + name)
    return names


def test_every_setting_is_documented():
    text = README.read_text(encoding="utf-8")
    missing = sorted(name for name in setting_names() if f"`{name}`" not in text)
    assert not missing, f"README configuration table lacks: {missing}"


def test_readme_test_command_is_what_ci_runs():
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    command = "ruff check . && ruff format --check . && mypy && pytest"
    assert command in README.read_text(encoding="utf-8")
    assert command in ci


def test_readme_install_line_is_what_ci_installs():
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    readme = " ".join(README.read_text(encoding="utf-8").split())
    assert "-c deploy/constraints.txt -e '.[all]' --group dev --config-settings" in ci
    assert "-c deploy/constraints.txt -e '.[all]' --group dev --config-settings" in readme
    assert "--upgrade pip" in ci  # --group needs pip 25.1+
