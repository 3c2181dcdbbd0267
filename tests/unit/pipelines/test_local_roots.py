"""The folders ingested into a collection are where display may read local pictures."""

from __future__ import annotations

import logging
import os

import pytest

from mmingest.pipelines.local_roots import (
    FILE_NAME,
    display_source_config,
    ingested_local_roots,
    remember_local_root,
)
from mmingest.schemas.settings import Settings


def test_roots_are_recorded_once_per_collection_and_resolved(tmp_path):
    state = tmp_path / "state"
    (tmp_path / "pics").mkdir()
    (tmp_path / "docs").mkdir()
    remember_local_root(state, "a", tmp_path / "pics")
    remember_local_root(state, "a", tmp_path / "x" / ".." / "pics")
    remember_local_root(state, "a", tmp_path / "docs")
    remember_local_root(state, "b", tmp_path / "docs")
    assert ingested_local_roots(state, "a") == [tmp_path / "pics", tmp_path / "docs"]
    assert ingested_local_roots(state, "b") == [tmp_path / "docs"]
    assert ingested_local_roots(state, "c") == []
    assert [p.name for p in state.iterdir()] == [FILE_NAME]  # no temporary files left


def test_display_settings_add_the_ingested_roots_to_the_configured_ones(tmp_path):
    allowed = tmp_path / "allowed"
    settings = Settings(
        state_dir=tmp_path / "state",
        collection="c",
        source={"allowed_local_roots": [str(allowed)]},
    )
    assert display_source_config(settings).allowed_local_roots == [allowed]
    remember_local_root(settings.state_dir, "c", tmp_path / "pics")
    assert display_source_config(settings).allowed_local_roots == [
        allowed,
        (tmp_path / "pics").resolve(),
    ]
    other = Settings(state_dir=tmp_path / "state", collection="other")
    assert display_source_config(other).allowed_local_roots == []


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"c": "not a list"}', '{"c": [1]}'])
def test_a_damaged_record_is_ignored_with_a_warning_and_rewritten(tmp_path, caplog, content):
    state = tmp_path / "state"
    state.mkdir()
    (state / FILE_NAME).write_text(content)
    with caplog.at_level(logging.WARNING):
        assert ingested_local_roots(state, "c") == []
    remember_local_root(state, "c", tmp_path)
    assert ingested_local_roots(state, "c") == [tmp_path.resolve()]


def test_a_state_dir_that_is_a_file_costs_only_the_display(tmp_path, caplog):
    state = tmp_path / "state"
    state.write_text("not a folder")
    with caplog.at_level(logging.WARNING):
        remember_local_root(state, "c", tmp_path)
    assert "allowed_local_roots" in caplog.text
    assert ingested_local_roots(tmp_path / "elsewhere", "c") == []


@pytest.mark.parametrize("kind", ["fifo", "link to /dev/zero", "huge"])
def test_a_record_that_is_no_small_regular_file_is_ignored(tmp_path, caplog, kind):
    state = tmp_path / "state"
    state.mkdir()
    record = state / FILE_NAME
    if kind == "fifo":
        os.mkfifo(record)
    elif kind == "huge":
        record.write_text('{"c": []}' + " " * (2 * 1024 * 1024))
    else:
        record.symlink_to("/dev/zero")
    with caplog.at_level(logging.WARNING):
        assert ingested_local_roots(state, "c") == []
    assert "ignoring" in caplog.text
