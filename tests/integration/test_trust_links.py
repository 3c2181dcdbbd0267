"""Local sources read only regular files inside their root: links leaving it and special
files are refused and reported (never read), for images, sidecars, PDFs and catalogs alike."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from pathlib import Path

import pytest

from mmingest.connectors.sources.local import LocalFolderSource
from mmingest.pipelines.ingest import ingest
from mmingest.pipelines.samples import encode
from mmingest.schemas.config import IngestConfig
from mmingest.schemas.errors import RefusedObject
from mmingest.schemas.query import HybridQuery
from tests.support.corpus import picture, simple_pdf
from tests.support.fakes import HashEmbedder

PNG = encode(picture("red", "circle"), "PNG")
SECRET = "sk-trust-links-7f3a9"


def _read(source: LocalFolderSource, key: str) -> bytes:
    return asyncio.run(source.read(key)).data


def _read_without_hanging(source: LocalFolderSource, key: str) -> BaseException | bytes:
    outcome: list[BaseException | bytes] = []

    def target() -> None:
        try:
            outcome.append(_read(source, key))
        except BaseException as error:
            outcome.append(error)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), f"reading {key} blocked"
    return outcome[0]


@pytest.mark.parametrize("target", ["/proc/self/environ", "/etc/passwd"])
def test_a_link_out_of_the_root_is_refused_not_read(tmp_path, target):
    if not Path(target).exists():
        pytest.skip(f"{target} does not exist here")
    (tmp_path / "photo.txt").symlink_to(target)
    source = LocalFolderSource(tmp_path)
    assert [obj.key for obj in source.list()] == ["photo.txt"]  # listed, so it is reported
    with pytest.raises(RefusedObject, match=f"photo.txt is a link to {target}.*outside"):
        _read(source, "photo.txt")
    with pytest.raises(RefusedObject, match="outside the source folder"):
        source.open("photo.txt")


def test_a_link_leaving_through_a_linked_folder_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET)
    root = tmp_path / "root"
    root.mkdir()
    (root / "door").symlink_to(outside, target_is_directory=True)
    source = LocalFolderSource(root)
    with pytest.raises(RefusedObject, match="outside the source folder"):
        _read(source, "door/secret.txt")


def test_a_fifo_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "pipe.png")
    source = LocalFolderSource(tmp_path)
    assert [obj.key for obj in source.list()] == ["pipe.png"]
    outcome = _read_without_hanging(source, "pipe.png")
    assert isinstance(outcome, RefusedObject) and "is a FIFO" in str(outcome)


def test_a_socket_and_a_device_are_refused(tmp_path):
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(tmp_path / "sock.png"))
        (tmp_path / "null.png").symlink_to("/dev/null")
        (tmp_path / "zero.png").symlink_to("/dev/zero")
        source = LocalFolderSource(tmp_path)
        # /dev/null and /dev/zero are outside the root; a device inside it is refused by type.
        for key in ("null.png", "zero.png"):
            assert isinstance(_read_without_hanging(source, key), RefusedObject)
        outcome = _read_without_hanging(source, "sock.png")
        assert isinstance(outcome, RefusedObject) and "socket" in str(outcome)
    finally:
        server.close()


def test_link_loops_do_not_hang_and_are_refused(tmp_path):
    (tmp_path / "a.png").symlink_to(tmp_path / "b.png")
    (tmp_path / "b.png").symlink_to(tmp_path / "a.png")
    (tmp_path / "loop").symlink_to(tmp_path, target_is_directory=True)
    source = LocalFolderSource(tmp_path)
    assert [obj.key for obj in source.list()] == ["a.png", "b.png"]
    with pytest.raises(RefusedObject, match="looping link"):
        _read(source, "a.png")


def test_links_that_stay_inside_the_root_are_read(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "a.png").write_bytes(PNG)
    (tmp_path / "alias.png").symlink_to(tmp_path / "real" / "a.png")
    (tmp_path / "relative.png").symlink_to("real/a.png")
    source = LocalFolderSource(tmp_path)
    assert _read(source, "alias.png") == PNG
    assert _read(source, "relative.png") == PNG
    with source.open("alias.png") as handle:
        assert handle.read() == PNG


def test_a_hostile_folder_ingests_what_is_safe_and_reports_the_rest(
    tmp_path, edge_store, monkeypatch
):
    monkeypatch.setenv("MMINGEST_TRUST_TEST_SECRET", SECRET)
    folder = tmp_path / "corpus"
    (folder / "real").mkdir(parents=True)
    (folder / "real" / "good.png").write_bytes(PNG)
    (folder / "alias.png").symlink_to(folder / "real" / "good.png")
    (folder / "photo.png").write_bytes(PNG)
    (folder / "photo.txt").symlink_to("/proc/self/environ")
    (folder / "passwd.png").symlink_to("/etc/passwd")
    (folder / "manual.pdf").symlink_to("/etc/passwd")
    os.mkfifo(folder / "pipe.jpg")
    outside = tmp_path / "outside.pdf"
    outside.write_bytes(simple_pdf(1))
    (folder / "outside.pdf").symlink_to(outside)
    summary = ingest(
        LocalFolderSource(folder),
        HashEmbedder(),
        edge_store,
        collection="trust",
        config=IngestConfig(batch_size=4),
    )
    refused = {Path(f.uri).name: f for f in summary.failures}
    assert set(refused) == {"photo.png", "passwd.png", "manual.pdf", "pipe.jpg", "outside.pdf"}
    assert {f.reason for f in refused.values()} == {"refused_object"}
    assert "photo.txt is a link to /proc/self/environ" in refused["photo.png"].message
    assert "is a FIFO" in refused["pipe.jpg"].message
    assert summary.written == 2  # real/good.png and the alias that stays inside the root
    for hit in edge_store.query("trust", HybridQuery(keyword_text="root", k=10)):
        assert SECRET not in str(hit.payload)
    hits = edge_store.query("trust", HybridQuery(keyword_text=SECRET, k=10))
    assert hits == []


def test_a_catalog_linked_out_of_the_root_is_refused(tmp_path, edge_store):
    outside = tmp_path / "outside.csv"
    outside.write_text("id,title\n1,secret product\n")
    folder = tmp_path / "shop"
    folder.mkdir()
    (folder / "catalog.csv").symlink_to(outside)
    summary = ingest(
        LocalFolderSource(folder), HashEmbedder(), edge_store, collection="t", kinds=["products"]
    )
    assert summary.written == 0
    assert [f.reason for f in summary.failures] == ["refused_object"]
