"""The CLI output reads right: short display paths, and counts in one unit."""

from __future__ import annotations

from pathlib import Path

from mmingest.flows.render import hits_table, short_path
from mmingest.schemas.query import Hit


def test_local_files_are_shown_relative_to_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    uri = (tmp_path / "samples" / "images" / "red-circle.png").as_uri()
    assert short_path(uri) == "samples/images/red-circle.png"


def test_long_paths_keep_their_last_two_parts():
    uri = Path("/srv/data/2026/catalogue/exports/very/deep/folder/images/red-circle.png").as_uri()
    assert short_path(uri) == "…/images/red-circle.png"
    assert short_path("file:///a/b.png") == "/a/b.png"
    long = "s3://media-bucket/tenants/acme/uploads/2026/11/23/images/red-circle-on-white.png"
    assert short_path(long) == "s3://media-bucket/…/images/red-circle-on-white.png"
    assert short_path("s3://bucket/a.png") == "s3://bucket/a.png"


def test_the_table_fits_a_row_on_one_line(tmp_path, monkeypatch):
    from rich.console import Console

    monkeypatch.chdir(tmp_path)
    uri = (tmp_path / "docs" / "guide.pdf").as_uri()
    hit = Hit(id="1", score=0.5, payload={"kind": "pdf_page", "source_uri": uri, "page": 2,
                                          "caption": "A page"})  # fmt: skip
    console = Console(width=80, record=True)
    console.print(hits_table([hit]))
    text = console.export_text()
    assert "docs/guide.pdf (page 2)" in text and "file://" not in text


def test_written_counts_in_one_unit():
    from mmingest.flows.render import written_line
    from mmingest.schemas.summary import RunSummary

    done = RunSummary(collection="c", new=3, changed=1, written=4)
    assert written_line(done) == "4 (3 new, 1 changed)"
    failed = RunSummary(collection="c", new=3, changed=0, written=0, failed=3)
    assert written_line(failed) == "0 of 3 (3 new, 0 changed; 3 not written)"


def test_progress_shows_total_percentage_and_eta_once_the_listing_is_known():
    from rich.console import Console

    from mmingest.flows.render import ingest_progress
    from mmingest.schemas.summary import RunSummary

    console = Console(width=160, record=True, force_terminal=True)
    summary = RunSummary(collection="c", seen=5, written=5, objects_done=5)
    with ingest_progress(console, enabled=True) as progress:
        assert progress is not None
        progress(summary)  # listing still going: no total yet
        task = progress._progress.tasks[0]
        assert task.total is None
        summary.listed, summary.objects_done = 20, 10
        progress(summary)
        assert (task.total, task.completed, task.percentage) == (20, 10, 50.0)
    text = console.export_text()
    assert "10/20" in text and "50%" in text and "ETA" in text
    assert "listed" not in summary.model_dump()  # progress only, not summary data
