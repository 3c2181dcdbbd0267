"""Terminal injection: outside text is normalised at ingest, and nothing printed obeys it."""

from __future__ import annotations

import json

import pytest

from mmingest.flows.cli import main
from mmingest.pipelines.samples import encode
from tests.support.corpus import picture

CLEAR_SCREEN = "\x1b[2J\x1b[H"


def cli(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


@pytest.fixture
def hostile_folder(monkeypatch, tiny_clip_dir, tmp_path):
    monkeypatch.setenv("MMINGEST_EMBEDDER__MODEL", str(tiny_clip_dir))
    monkeypatch.setenv("MMINGEST_STATE_DIR", str(tmp_path / "state"))
    folder = tmp_path / "images"
    folder.mkdir()
    (folder / "shoe.png").write_bytes(encode(picture("red", "circle"), "PNG"))
    (folder / "shoe.txt").write_text(f"red shoe{CLEAR_SCREEN}\x00 on sale\u202e\x9b31m")
    return folder


def test_captions_are_stored_without_control_characters(capsys, hostile_folder):
    assert cli(capsys, "ingest", str(hostile_folder), "--no-progress")[0] == 0
    code, out, _ = cli(capsys, "query", "red shoe", "--json")
    assert code == 0
    assert json.loads(out)[0]["caption"] == "red shoe[2J[H on sale31m"


def test_query_never_prints_escape_even_for_a_raw_payload(capsys, hostile_folder, monkeypatch):
    # A payload written raw (by an older version or another tool): turn the normaliser off.
    monkeypatch.setattr("mmingest.pipelines.captions.normalise_text", lambda text: text)
    assert cli(capsys, "ingest", str(hostile_folder), "--no-progress")[0] == 0
    code, out, _ = cli(capsys, "query", "red shoe", "--json")
    assert json.loads(out)[0]["caption"].startswith(f"red shoe{CLEAR_SCREEN}")
    assert "\x1b" not in out and "\x9b" not in out and "\u202e" not in out
    code, out, _ = cli(capsys, "query", "red shoe")
    assert code == 0 and "red shoe" in out
    for char in ("\x1b", "\x00", "\x9b", "\u202e"):
        assert char not in out
    assert "\\x1b[2J" in out
