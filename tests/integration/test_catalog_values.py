"""Catalog values are what their author wrote: no type guessing, one odd value fails one
record at most, empty catalogs and cut captions are reported, and re-runs stay stable."""

from __future__ import annotations

import io

from mmingest.connectors.sources.local import LocalFolderSource
from mmingest.pipelines.extract.catalogs import read_catalog
from mmingest.pipelines.ingest import Kind, ingest
from mmingest.pipelines.sync import sync
from mmingest.schemas.config import CatalogConfig, IngestConfig
from mmingest.schemas.query import HybridQuery
from tests.support.fakes import HashEmbedder

BARE = CatalogConfig(description_column=None, image_columns=[])


def _ingest(folder, store, **options):
    options.setdefault("config", IngestConfig(batch_size=16))
    options.setdefault("catalog", BARE)
    return ingest(
        LocalFolderSource(folder),
        HashEmbedder(),
        store,
        collection="shop",
        kinds=[Kind.PRODUCTS],
        **options,
    )


def _stored_fields(store):
    hits = store.query("shop", HybridQuery(keyword_text="kite", k=50))
    return {hit.payload["fields"]["id"]: hit.payload["fields"] for hit in hits}


def test_csv_values_stay_the_text_they_were_written_as(tmp_path, edge_store, ledger):
    folder = tmp_path / "shop"
    folder.mkdir()
    lines = ["id,title,zip,size"]
    lines += ["00123,kite one,02139,1", "0123,kite two,02139,2", "123,kite three,10001,10.5"]
    lines += [f"{n},kite {n},0{n}000,{n}" for n in range(4, 10)]
    (folder / "catalog.csv").write_text("\n".join(lines) + "\n")
    summary = _ingest(folder, edge_store)
    ledger.outcome(summary)
    assert (summary.written, summary.failed) == (9, 0)
    fields = _stored_fields(edge_store)
    assert {"00123", "0123", "123"} <= set(fields)  # three products, not one and two refusals
    assert fields["00123"]["zip"] == "02139"
    assert fields["4"]["size"] == "4" and fields["123"]["size"] == "10.5"
    again = _ingest(folder, edge_store)
    assert (again.unchanged, again.written) == (9, 0)  # same ids, nothing re-embedded
    report = sync(
        LocalFolderSource(folder),
        HashEmbedder(),
        edge_store,
        collection="shop",
        config=IngestConfig(batch_size=16),
        kinds=[Kind.PRODUCTS],
        catalog=BARE,
    )
    assert (report.summary.unchanged, report.summary.written, report.deletions.deleted) == (
        9,
        0,
        0,
    )


def test_declared_column_types_convert_per_record(tmp_path, edge_store, ledger):
    folder = tmp_path / "shop"
    folder.mkdir()
    (folder / "catalog.csv").write_text(
        "id,title,price,stock,active\n"
        "a,kite a,9.5,3,yes\n"
        "b,kite b,cheap,1,no\n"  # one odd price fails its record only
        "c,kite c,7,0,false\n"
    )
    types = {"price": "number", "stock": "integer", "active": "boolean"}
    summary = _ingest(folder, edge_store, catalog=BARE.model_copy(update={"column_types": types}))
    ledger.bad_inputs(1)
    ledger.outcome(summary)
    (failure,) = summary.failures
    assert failure.uri.endswith("catalog.csv#row=3")
    assert "column 'price' is declared number (catalog.column_types) but holds 'cheap'" in (
        failure.message
    )
    fields = _stored_fields(edge_store)
    assert fields["a"]["price"] == 9.5 and fields["c"]["price"] == 7
    assert fields["a"]["stock"] == 3 and fields["a"]["active"] is True
    assert fields["c"]["active"] is False


def test_an_odd_value_after_the_first_mebibyte_fails_nothing_else():
    rows = [f"{n},product number {n:07d} with a description to fill space" for n in range(30_000)]
    rows.insert(25_000, "not-a-number,an odd id late in the file")
    data = ("id,title\n" + "\n".join(rows) + "\n").encode()
    assert len(data) > 1 << 20
    columns, batches = read_catalog(io.BytesIO(data), "csv", CatalogConfig(), batch_size=4096)
    assert columns == ["id", "title"]
    read = [row for batch in batches for row in batch]
    assert len(read) == 30_001
    assert all(row.error is None for row in read)
    assert read[25_000].values == {"id": "not-a-number", "title": "an odd id late in the file"}
    assert read[7].values["id"] == "7"


def test_bytes_that_are_not_utf8_fail_only_their_row():
    data = b"\xef\xbb\xbfid,title\n1,ok\n2,\xf9broken,extra\n3,caf\xe9\n4,\xe2\x82\xac fine\n"
    _, batches = read_catalog(io.BytesIO(data), "csv", CatalogConfig(), batch_size=10)
    rows = {row.number: row for batch in batches for row in batch}
    assert rows[2].values == {"id": "1", "title": "ok"}
    assert "line 3 has 3 fields, expected 2: '2,?broken,extra'" in (rows[3].error or "")
    assert "column 'title' holds bytes that are not UTF-8 (at 3)" in (rows[4].error or "")
    assert rows[5].values == {"id": "4", "title": "\u20ac fine"}


def test_empty_catalogs_are_reported_as_empty(tmp_path, edge_store, ledger):
    folder = tmp_path / "shop"
    folder.mkdir()
    (folder / "zero.jsonl").write_bytes(b"")
    (folder / "zero.csv").write_bytes(b"")
    (folder / "header-only.csv").write_text("id,title,description,image\n")
    (folder / "header-no-newline.csv").write_text("id,title")
    (folder / "blank-lines.jsonl").write_text("\n\n")
    (folder / "empty-array.json").write_text("[]")
    (folder / "one.jsonl").write_text('{"id": "1", "title": "kite"}\n')
    summary = _ingest(folder, edge_store)
    ledger.bad_inputs(6)
    ledger.outcome(summary)
    assert (summary.written, summary.failed, summary.ignored) == (1, 0, 6)
    warned = {w.uri.rsplit("/", 1)[1]: w for w in summary.warnings}
    assert set(warned) == {
        "zero.jsonl",
        "zero.csv",
        "header-only.csv",
        "header-no-newline.csv",
        "blank-lines.jsonl",
        "empty-array.json",
    }
    assert all(w.reason == "empty_catalog" for w in warned.values())
    assert "0 bytes" in warned["zero.csv"].message
    assert "no records" in warned["header-only.csv"].message


def test_each_cut_caption_is_a_warning_with_its_record(tmp_path, edge_store, ledger):
    folder = tmp_path / "shop"
    folder.mkdir()
    (folder / "catalog.csv").write_text(
        f"id,title,description\nlong,kite,{'word ' * 100}\nshort,kite,a short one\n"
    )
    summary = _ingest(
        folder,
        edge_store,
        config=IngestConfig(max_caption_chars=80),
        catalog=CatalogConfig(image_columns=[]),
    )
    ledger.outcome(summary)
    assert summary.written == 2
    (warning,) = summary.warnings
    assert warning.uri.endswith("catalog.csv#row=2")
    assert warning.reason == "caption_truncated"
    assert "cut to 80 (ingest.max_caption_chars)" in warning.message
