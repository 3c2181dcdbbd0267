"""The mmingest command line, in-process and through the installed console script."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from mmingest.flows.cli import main


def cli(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


@pytest.fixture
def configured(monkeypatch, tiny_clip_dir, tmp_path):
    monkeypatch.setenv("MMINGEST_EMBEDDER__MODEL", str(tiny_clip_dir))
    monkeypatch.setenv("MMINGEST_STATE_DIR", str(tmp_path / "state"))
    return tmp_path


def test_samples_then_ingest_then_query(capsys, configured):
    code, out, _ = cli(capsys, "samples", str(configured / "samples"), "--images", "10")
    assert code == 0 and "images" in out
    images = configured / "samples" / "images"
    assert len([p for p in images.iterdir() if p.suffix not in (".txt", ".json")]) == 10
    assert (configured / "samples" / "products" / "catalog.parquet").is_file()
    assert len(list((configured / "samples" / "pdfs").glob("*.pdf"))) == 3

    code, out, _ = cli(capsys, "ingest", str(images), "--no-progress")
    assert code == 0
    assert "written" in out and "10" in out

    code, out, _ = cli(capsys, "ingest", str(images), "--json")
    summary = json.loads(out)
    assert (summary["seen"], summary["written"], summary["unchanged"]) == (10, 0, 10)

    code, out, _ = cli(
        capsys,
        "query",
        "a red circle on a white background",
        "-k",
        "3",
        "--vector",
        "caption",
        "--json",
    )
    rows = json.loads(out)
    assert code == 0 and len(rows) == 3
    assert rows[0]["caption"] == "a red circle on a white background"
    assert rows[0]["rank"] == 1 and rows[0]["kind"] == "image"

    picture = next(images.glob("blue-square*"))
    code, out, _ = cli(
        capsys, "query", "--image", str(picture), "--vector", "image", "--mode", "dense", "--json"
    )
    assert json.loads(out)[0]["source_uri"] == picture.resolve().as_uri()

    code, out, _ = cli(capsys, "query", "a red circle", "-k", "2")
    assert code == 0
    assert "score" in out and "caption" in out
    # The table shows a short display path (--json keeps the full URI).
    assert "file://" not in out and f"{images.name}/" in out


def test_failures_are_listed_and_exit_code_is_three(capsys, configured, image_folder):
    folder, _ = image_folder
    (folder / "zero.png").write_bytes(b"")
    code, out, _ = cli(capsys, "ingest", str(folder), "--no-progress")
    assert code == 3
    assert "zero.png" in out and "empty_object" in out
    assert "dead-letters" in out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["query"], "give a TEXT to search for, an --image, or both (see 'mmingest query --help')"),
        (["query", "x", "-k", "0"], "Invalid value for '-k'"),
        (["nope"], "No such command 'nope'"),
        (["ingest"], "Missing argument 'source'"),
        (["query", "x", "--mode", "fuzzy"], "Invalid value for '--mode'"),
    ],
)
def test_bad_arguments_give_one_clear_line(capsys, args, expected):
    code, out, err = cli(capsys, *args)
    assert code == 2
    assert expected in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err + out


def test_runtime_errors_give_one_clear_line(capsys, configured, monkeypatch):
    code, _, err = cli(capsys, "ingest", str(configured / "missing"))
    assert code == 1
    assert err.strip() == f"mmingest: error: source folder {configured / 'missing'} does not exist"
    monkeypatch.setenv("MMINGEST_INGEST__BATCH_SIZE", "0")
    code, _, err = cli(capsys, "ingest", str(configured))
    assert code == 1
    assert (
        "invalid configuration: ingest.batch_size: Input should be greater than or equal to 1"
        in err
    )
    assert len(err.strip().splitlines()) == 1


def test_query_on_a_collection_that_does_not_exist(capsys, configured):
    code, _, err = cli(capsys, "query", "anything", "-c", "nothing_here")
    assert code == 1
    assert "collection 'nothing_here' does not exist" in err


def test_help_everywhere(capsys):
    for args in ([], ["--help"], ["ingest", "--help"], ["query", "--help"], ["doctor", "--help"]):
        code, out, _ = cli(capsys, *args)
        assert code == 0
        assert "Usage: mmingest" in out


def test_doctor_reports_each_check(capsys, configured):
    code, out, _ = cli(capsys, "doctor", str(configured), "--model")
    assert code == 0
    assert "ok configuration" in out and "ok store" in out
    assert "ok embedder: clip:tiny-clip ready, 32-d cosine" in out
    assert "ok source" in out
    # doctor SOURCE checks the source without loading the model, unless --model says so.
    code, out, _ = cli(capsys, "doctor", str(configured))
    assert code == 0 and "ok source" in out and "ok embedder" not in out


def test_doctor_fails_on_an_unavailable_model(capsys, configured, monkeypatch):
    monkeypatch.setenv("MMINGEST_EMBEDDER__MODEL", str(configured / "no-model"))
    code, out, _ = cli(capsys, "doctor")
    assert code == 1
    assert "FAIL embedder: model directory" in out


@pytest.mark.skipif(shutil.which("mmingest") is None, reason="console script not installed")
def test_the_installed_console_script(configured, tiny_clip_dir):
    from mmingest.pipelines.samples import write_images

    images = configured / "pics"
    write_images(images, 6)
    env = {
        "MMINGEST_EMBEDDER__MODEL": str(tiny_clip_dir),
        "PATH": str(sys.prefix) + "/bin",
        "MMINGEST_STATE_DIR": str(configured / "state"),
        "HOME": str(configured),
    }
    ingest = subprocess.run(
        ["mmingest", "ingest", str(images), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ingest.returncode == 0, ingest.stderr
    assert json.loads(ingest.stdout)["written"] == 6
    query = subprocess.run(
        ["mmingest", "query", "a red circle", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert query.returncode == 0, query.stderr
    assert len(json.loads(query.stdout)) == 6
