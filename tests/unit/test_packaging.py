"""The distribution installs one ``mmingest`` namespace built from the repository's folders."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("schemas", "connectors", "pipelines", "flows")
FACADE = Path("flows/facade")


def _setuptools() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as file:
        return dict(tomllib.load(file)["tool"]["setuptools"])


def test_every_package_folder_is_installed_under_mmingest() -> None:
    config = _setuptools()
    folders = {
        path.parent.relative_to(ROOT)
        for layer in LAYERS
        for path in (ROOT / layer).rglob("__init__.py")
        if FACADE not in path.relative_to(ROOT).parents
    }
    expected = {"mmingest"} | {"mmingest." + ".".join(folder.parts) for folder in folders}
    assert set(config["packages"]) == expected  # type: ignore[arg-type]


def test_no_generic_top_level_package_is_installed() -> None:
    config = _setuptools()
    assert all(name.split(".")[0] == "mmingest" for name in config["packages"])  # type: ignore[attr-defined]
    assert config["package-dir"] == {
        "mmingest": str(FACADE),
        **{f"mmingest.{layer}": layer for layer in LAYERS},
    }


def test_code_imports_only_through_the_namespace() -> None:
    bare = re.compile(rf"^\s*(from|import) ({'|'.join(LAYERS)})(\.|\s|$)")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for top in (*LAYERS, "tests", "bench")
        for path in (ROOT / top).rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if bare.match(line)
    ]
    assert offenders == []
