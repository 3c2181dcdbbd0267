"""Outside text: one normaliser at ingest, one escape for the terminal."""

from __future__ import annotations

import json

import pytest

from mmingest.flows.render import hits_json, hits_table, shown
from mmingest.pipelines.captions import caption_from_sidecar, clean_caption
from mmingest.pipelines.extract.products import record_asset
from mmingest.pipelines.text import normalise_text, normalise_value, terminal_safe
from mmingest.schemas.config import CatalogConfig
from mmingest.schemas.query import Hit

HOSTILE = "red\x1b[2J\x00 shoe\x9b31m\u202eevil\u2066\x07\x7f"


def test_normalise_drops_controls_but_keeps_newline_and_tab():
    assert normalise_text(HOSTILE) == "red[2J shoe31mevil"
    assert normalise_text("a\tb\nc\r\nd\re") == "a\tb\nc\nd\ne"
    assert normalise_text("café ünïcode 商品") == "café ünïcode 商品"


def test_normalise_value_walks_json_like_values():
    value = {"k\x1b": ["a\x00", {"b": "c\x9b"}], "n": 3, "none": None}
    assert normalise_value(value) == {"k": ["a", {"b": "c"}], "n": 3, "none": None}


def test_captions_from_every_outside_text_are_normalised():
    assert clean_caption(HOSTILE, max_chars=100) == "red[2J shoe31mevil"
    sidecar = caption_from_sidecar("x.json", json.dumps({"caption": HOSTILE}).encode())
    assert clean_caption(sidecar, max_chars=100) == "red[2J shoe31mevil"


def test_product_fields_title_and_key_are_normalised():
    values = {
        "id": "sku\x1b1",
        "title": "Shoe\x1b[2J",
        "description": "Red\x00",
        "brand": "Acme\u202e",
        "tags": ["a\x1b", "b"],
        "image": "",
    }
    asset = record_asset(values, "file:///c.csv", CatalogConfig(), 100)
    assert asset.part == "sku1"
    assert asset.caption == "Shoe[2J. Red"
    assert asset.title == "Shoe[2J"
    assert asset.fields["brand"] == "Acme"
    assert asset.fields["tags"] == ["a", "b"]
    assert "\x1b" not in json.dumps(asset.fields)


@pytest.mark.parametrize("char", ["\x1b", "\x00", "\x9b", "\u202e", "\x07", "\x7f"])
def test_terminal_safe_shows_every_control_character(char):
    safe = terminal_safe(f"a{char}b")
    assert char not in safe
    assert safe.startswith("a\\") and safe.endswith("b")
    assert terminal_safe("a\nb") == "a\\x0ab"
    assert terminal_safe("a\nb", multiline=True) == "a\nb"


def test_hits_printed_as_a_table_or_json_carry_no_control_character():
    from rich.console import Console

    hit = Hit(
        id="1",
        score=0.5,
        payload={"kind": "image", "source_uri": "file:///x\x1b]0;t\x07.png", "caption": HOSTILE},
    )
    console = Console(record=True, width=200, force_terminal=False)
    console.print(hits_table([hit]))
    text = console.export_text()
    assert not any(c in text for c in "\x1b\x00\x9b\u202e\x07\x7f")
    assert "\\x1b[2J" in text
    rows = hits_json([hit])
    assert not any(c in rows for c in "\x1b\x00\x9b\u202e\x07\x7f")
    assert json.loads(rows)[0]["caption"] == HOSTILE  # the same value, escaped
    assert shown("[bold]x\x1b") == "\\[bold]x\\x1b"


def test_cli_log_lines_show_control_characters():
    import logging

    from mmingest.flows.app import TerminalSafeFormatter

    record = logging.LogRecord(
        "mmingest", logging.WARNING, __file__, 1, "retrying %s", ("s3://b/\x1b[2Jkey",), None
    )
    line = TerminalSafeFormatter("%(levelname)s %(message)s").format(record)
    assert line == "WARNING retrying s3://b/\\x1b[2Jkey"
