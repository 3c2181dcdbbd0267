import asyncio
import os
import random
from pathlib import Path

import pytest

from mmingest.connectors.sources import open_source
from mmingest.connectors.sources.local import LocalFolderSource, path_from_uri
from mmingest.connectors.sources.memory import MemorySource
from mmingest.schemas.errors import ConfigError, ObjectTooLarge, ObjectVanished

KEYS = [
    "a.jpg",
    "a/b.jpg",
    "a-b.jpg",
    "a.b/c.jpg",
    "b c.png",
    "b/ü nicode.txt",
    "b/x/y/z.jpg",
    "ab.jpg",
    "A.jpg",
    "a/b/c.txt",
]


def _write(root: Path, keys: list[str]) -> None:
    for key in keys:
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(key.encode())


def test_local_listing_is_in_lexicographic_key_order(tmp_path):
    _write(tmp_path, KEYS)
    listed = [obj.key for obj in LocalFolderSource(tmp_path).list()]
    assert listed == sorted(KEYS)


def test_local_listing_filters_by_key_prefix_and_skips_hidden(tmp_path):
    _write(tmp_path, [*KEYS, ".hidden/x.jpg", "a/.DS_Store"])
    source = LocalFolderSource(tmp_path)
    assert [obj.key for obj in source.list("a/")] == ["a/b.jpg", "a/b/c.txt"]
    assert [obj.key for obj in source.list("a.")] == ["a.b/c.jpg", "a.jpg"]
    assert all(not obj.key.startswith(".") for obj in source.list())


def test_local_objects_carry_uri_size_and_an_etag_that_tracks_changes(tmp_path):
    _write(tmp_path, ["x y.jpg"])
    source = LocalFolderSource(str(tmp_path))
    (obj,) = source.list()
    assert obj.uri == (tmp_path / "x y.jpg").as_uri()
    assert obj.uri.endswith("x%20y.jpg")
    assert obj.size == len(b"x y.jpg")
    (tmp_path / "x y.jpg").write_bytes(b"changed content")
    os.utime(tmp_path / "x y.jpg", ns=(1, 2))
    (again,) = source.list()
    assert again.etag != obj.etag
    assert asyncio.run(source.read(again.key)).data == b"changed content"


def test_local_read_refuses_keys_leaving_the_root(tmp_path):
    source = LocalFolderSource(tmp_path / "root")
    for evil in ("../../etc/passwd", "/etc/passwd", "a/../../b"):
        with pytest.raises(ConfigError, match="escapes"):
            asyncio.run(source.read(evil))


def test_local_read_refuses_objects_over_the_size_limit(tmp_path):
    _write(tmp_path, ["big.jpg"])
    with pytest.raises(ObjectTooLarge, match="over the limit of 3"):
        asyncio.run(LocalFolderSource(tmp_path).read("big.jpg", max_bytes=3))


def test_local_read_of_a_deleted_file_is_reported_as_vanished(tmp_path):
    _write(tmp_path, ["gone.jpg"])
    source = LocalFolderSource(tmp_path)
    (obj,) = source.list()
    (tmp_path / "gone.jpg").unlink()
    with pytest.raises(ObjectVanished, match="does not exist"):
        asyncio.run(source.read(obj.key))


def test_symlinked_directories_are_not_followed(tmp_path):
    _write(tmp_path, ["real/a.jpg"])
    (tmp_path / "loop").symlink_to(tmp_path, target_is_directory=True)
    assert [obj.key for obj in LocalFolderSource(tmp_path).list()] == ["real/a.jpg"]


def test_precheck_names_the_problem(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        LocalFolderSource(tmp_path / "missing").precheck()
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="not a folder"):
        LocalFolderSource(tmp_path / "file").precheck()


def test_file_uris_and_paths_resolve_alike(tmp_path):
    assert path_from_uri((tmp_path / "a b").as_uri()) == tmp_path / "a b"
    with pytest.raises(ConfigError, match="local path"):
        path_from_uri("file://remote-host/share")


def test_memory_source_lists_sorted_and_reads():
    source = MemorySource("memory://test-sources")
    source.clear()
    keys = [f"k{i:03d}" for i in range(50)]
    for key in random.sample(keys, len(keys)):
        source.put(key, key.encode())
    listed = list(open_source("memory://test-sources").list("k01"))
    assert [obj.key for obj in listed] == [f"k{i:03d}" for i in range(10, 20)]
    assert asyncio.run(source.read(listed[0].key)).data == b"k010"
    assert source.open("k011").read() == b"k011"
    source.put("meta", b"x", {"caption": "a cat"})
    assert asyncio.run(source.read("meta")).metadata == {"caption": "a cat"}
    source.delete("k010")
    with pytest.raises(ObjectVanished):
        asyncio.run(source.read(listed[0].key))


def test_unknown_scheme_is_a_config_error():
    with pytest.raises(ConfigError, match="unsupported source 'ftp://x'"):
        open_source("ftp://x")


def test_metadata_names_are_lowercased_and_encoded_words_decoded():
    from mmingest.connectors.sources.base import decode_metadata

    assert decode_metadata(
        {
            "Caption": "=?UTF-8?B?Y2Fmw6k=?=",
            "q": "=?utf-8?q?caf=C3=A9_cr=C3=A8me?=",
            "plain": "50% =? off",
            "broken": "=?x-unknown?B?@@?=",
        }
    ) == {
        "caption": "café",
        "q": "café crème",
        "plain": "50% =? off",
        "broken": "=?x-unknown?B?@@?=",
    }


@pytest.mark.parametrize(
    ("uri", "config", "setting"),
    [
        ("s3://b", {"s3": {"endpoint": "http://127.0.0.1:9"}}, "source.s3.allow_http"),
        ("gs://b", {"gcs": {"endpoint": "http://127.0.0.1:9"}}, "source.gcs.allow_http"),
        (
            "az://c",
            {
                "s3": {"allow_http": True},  # another scheme's switch does not count
                "azure": {"account_name": "a", "endpoint": "http://127.0.0.1:9/a"},
            },
            "source.azure.allow_http",
        ),
    ],
)
def test_a_plain_http_endpoint_needs_its_own_allow_http(uri, config, setting):
    from mmingest.connectors.sources.object_store import ObjectStoreSource
    from mmingest.schemas.config import SourceConfig

    with pytest.raises(ConfigError, match=f"plain HTTP.*{setting}=true"):
        ObjectStoreSource(uri, SourceConfig.model_validate(config))
