"""The CLI explains its configuration in one line, shows its version, and loads the embedding
model only for commands that embed something."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from mmingest import __version__
from mmingest.flows.cli import main
from mmingest.pipelines.samples import write_images

pytestmark = pytest.mark.timeout(180)

# Runs the CLI in a fresh interpreter and reports which heavy modules it imported.
PROBE = """
import atexit, json, sys
atexit.register(lambda: print(json.dumps(sorted(
    name for name in ("torch", "transformers") if name in sys.modules
)), file=sys.stderr))
from mmingest.flows.cli import main
main(sys.argv[1:])
"""


def _cli(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


def test_version(capsys):
    code, out, _ = _cli(capsys, "--version")
    assert (code, out.strip()) == (0, f"mmingest {__version__}")


def test_config_errors_are_one_line(capsys, tmp_path, monkeypatch):
    (tmp_path / "mmingest.toml").write_text("[store\n")
    code, _, err = _cli(capsys, "doctor", "--no-model")
    assert code == 1 and err.count("\n") == 1
    assert err.startswith("mmingest: error: mmingest.toml: not valid TOML") and "line 1" in err
    (tmp_path / "mmingest.toml").write_text('[store]\nkind = "qdrant-edge"\npaht = "x"\n')
    code, _, err = _cli(capsys, "doctor", "--no-model")
    assert code == 1 and err.count("\n") == 1
    assert "store.qdrant-edge.paht: Extra inputs are not permitted (did you mean 'path'?)" in err
    (tmp_path / "mmingest.toml").unlink()
    monkeypatch.setenv("MMINGEST_COLECTION", "x")
    code, _, err = _cli(capsys, "query", "red")
    assert code == 1 and "did you mean 'MMINGEST_COLLECTION'?" in err


def test_doctor_shows_what_differs_from_the_defaults(capsys, tmp_path, monkeypatch):
    (tmp_path / "mmingest.toml").write_text('collection = "shoes"\n')
    monkeypatch.setenv("MMINGEST_STATE_DIR", str(tmp_path / "state"))
    code, out, _ = _cli(capsys, "doctor", "--no-model")
    assert code == 0
    assert '  collection = "shoes"  (mmingest.toml)' in out
    assert "  state_dir = " in out and "(MMINGEST_STATE_DIR in the environment)" in out


@pytest.mark.parametrize(
    "args",
    [
        ["query", "--help"],
        ["verify", "samples"],
        ["ingest", "samples", "--dry-run"],
        ["sync", "samples", "--dry-run", "--json"],
        ["doctor", "samples"],
    ],
)
def test_commands_that_embed_nothing_do_not_import_torch(tmp_path, args):
    write_images(tmp_path / "samples", 3)
    # The default model is a hub id that cannot load here: importing torch is the only
    # way these commands could touch it.
    env = {**os.environ, "MMINGEST_STATE_DIR": str(tmp_path / "state")}
    ran = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode in (0, 3), ran.stderr[-2000:]
    assert json.loads(ran.stderr.strip().splitlines()[-1]) == []


def test_models_tiny_builds_a_model_the_embedder_loads(capsys, tmp_path):
    from mmingest.connectors.embedders.clip import ClipEmbedder
    from mmingest.schemas.config import ClipEmbedderConfig

    code, out, _ = _cli(capsys, "models", "tiny", str(tmp_path / "tiny"))
    assert code == 0 and f"export MMINGEST_EMBEDDER__MODEL={tmp_path / 'tiny'}" in out
    embedder = ClipEmbedder(ClipEmbedderConfig(model=str(tmp_path / "tiny")))
    try:
        assert embedder.info.dimension == 32
    finally:
        embedder.close()
