"""The contract every Source passes. A backend's test module subclasses
:class:`SourceContract` and provides a ``harness`` fixture (:class:`SourceHarness`) over an empty
bucket of a real server started by a fixture (moto, azurite, fake-gcs-server), a folder or a
``memory://`` bucket. Where a backend may differ from S3 it says so in its
:class:`Behaviour`, and the contract asserts the documented difference instead of skipping.
"""

from __future__ import annotations

import asyncio
import base64
import random
import traceback

import pytest

from mmingest.pipelines.ingest import ingest
from mmingest.pipelines.samples import encode
from mmingest.schemas import HybridQuery
from mmingest.schemas.config import IngestConfig
from mmingest.schemas.errors import (
    AuthenticationFailed,
    ConfigError,
    ObjectTooLarge,
    ObjectVanished,
    SourceUnavailable,
    UnreadableMetadata,
)
from tests.contract.source_harness import Behaviour, SourceHarness
from tests.emulators.faulty_proxy import listings, object_reads
from tests.support.corpus import picture
from tests.support.fakes import HashEmbedder

__all__ = ["Behaviour", "SourceContract", "SourceHarness"]

ODD_KEYS = [
    "with space.png",
    "dir with space/x y.png",
    "ünïcødé/画像.png",
    "e\u0301-decomposed.png",
    "plus+sign.png",
    "percent%20literal.png",
    "percent%2Fslash.png",
    "100%.png",
    "query?x=1#frag.png",
    'quote\'s "double".png',
]
"""Legal object keys (and Linux file names) that URL and path handling tend to mangle."""

PREFIX_KEYS = [
    "a.jpg",
    "a/b.jpg",
    "a-b.jpg",
    "photos/2024-01/x.jpg",
    "photos/2024-02/y.png",
    "photos/2025/z.jpg",
    "b c.png",
]


def read(source, key, **options):
    return asyncio.run(source.read(key, **options))


def shown(error: BaseException) -> str:
    """Everything an error can show: message, repr and the traceback with its causes."""
    return "\n".join([str(error), repr(error), "".join(traceback.format_exception(error))])


class SourceContract:
    """Listing, reads, metadata, odd keys, vanished keys, retries, credentials, anonymity."""

    # --- listing ---------------------------------------------------------------------------

    def test_listing_streams_in_key_order_across_pages(self, harness: SourceHarness):
        keys = [f"pics/{i:03d}.png" for i in range(23)] + ["pics/0.png", "pics/00/a.png"]
        for key in random.Random(17).sample(keys, len(keys)):
            harness.put(key, key.encode())
        assert [obj.key for obj in harness.source(page_size=4).list()] == sorted(keys)
        if not harness.behaviour.network:
            return
        with harness.proxied(page_size=4) as (proxy, source):
            listing = source.list()
            first = next(listing)
            # streamed: one page fetched for the first object, not the whole bucket
            assert sum(listings(*request) for request in proxy.requests) == 1
            assert [first.key, *(obj.key for obj in listing)] == sorted(keys)
            pages = sum(listings(*request) for request in proxy.requests)
            if harness.behaviour.server_pages:
                assert pages == -(-len(keys) // 4)  # every continuation token followed
            else:
                assert pages >= 1

    def test_string_prefixes_and_globs_select_keys(self, harness, edge_store):
        for key in PREFIX_KEYS:
            harness.put(key, encode(picture(), "PNG"))
        source = harness.source(page_size=2)
        assert [obj.key for obj in source.list("photos/2024-")] == [
            "photos/2024-01/x.jpg",
            "photos/2024-02/y.png",
        ]
        if harness.behaviour.byte_order:
            assert [obj.key for obj in source.list("a")] == ["a-b.jpg", "a.jpg", "a/b.jpg"]
        else:  # the server's own folder-first order, as it sent it
            assert [obj.key for obj in source.list("a")] == ["a/b.jpg", "a-b.jpg", "a.jpg"]
        assert [obj.key for obj in source.list("a/")] == ["a/b.jpg"]
        assert list(source.list("nothing-here")) == []
        summary = ingest(
            source,
            HashEmbedder(),
            edge_store,
            collection="globs",
            config=IngestConfig(include=["photos/**"], exclude=["**/2025/**"]),
        )
        assert (summary.seen, summary.written, summary.ignored) == (7, 2, 5)
        landed = {point.source_uri for point in edge_store.scan("globs")}
        assert landed == {
            source.uri_of("photos/2024-01/x.jpg"),
            source.uri_of("photos/2024-02/y.png"),
        }

    def test_size_and_etag_per_object_and_the_etag_follows_the_bytes(self, harness):
        harness.put("one.bin", b"0123456789")
        harness.put("two.bin", b"abc")
        source = harness.source()
        listed = {obj.key: obj for obj in source.list()}
        assert {key: obj.size for key, obj in listed.items()} == {"one.bin": 10, "two.bin": 3}
        assert listed["one.bin"].uri == source.uri_of("one.bin")
        assert all(obj.etag and '"' not in obj.etag for obj in listed.values())
        assert listed["one.bin"].etag != listed["two.bin"].etag
        again = {obj.key: obj.etag for obj in source.list()}
        assert again == {key: obj.etag for key, obj in listed.items()}  # stable when unchanged
        harness.put("one.bin", b"9876543210")  # same size, other bytes
        changed = {obj.key: obj.etag for obj in source.list()}
        assert changed["one.bin"] != listed["one.bin"].etag
        assert changed["two.bin"] == listed["two.bin"].etag

    # --- reads -----------------------------------------------------------------------------

    def test_whole_and_bounded_reads(self, harness):
        harness.put("cat.bin", b"0123456789")
        source = harness.source()
        assert read(source, "cat.bin").data == b"0123456789"
        assert read(source, "cat.bin", max_bytes=10).data == b"0123456789"
        with pytest.raises(ObjectTooLarge, match="10 bytes, over the limit of 4"):
            read(source, "cat.bin", max_bytes=4)
        with source.open("cat.bin") as handle:
            handle.seek(4)
            assert handle.read(3) == b"456"
            assert handle.tell() == 7
            handle.seek(-2, 2)
            assert handle.read() == b"89"

    def test_object_metadata_reaches_captions(self, harness, edge_store):
        red = encode(picture("red"), "PNG")
        harness.put("pics/red.png", red, {"caption": "a red circle from metadata"})
        harness.put("pics/blue.png", encode(picture("blue"), "PNG"))
        harness.put("pics/blue.txt", b"a blue circle from a sidecar")
        source = harness.source()
        metadata = read(source, "pics/red.png").metadata
        if harness.behaviour.metadata:
            assert metadata == {"caption": "a red circle from metadata"}
        else:
            assert metadata == {}
        summary = ingest(source, HashEmbedder(), edge_store, collection="captions")
        assert (summary.written, summary.failed) == (2, 0)
        hits = edge_store.query("captions", HybridQuery(keyword_text="circle", k=10))
        captions = {hit.payload["source_uri"]: hit.payload.get("caption") for hit in hits}
        assert captions[source.uri_of("pics/blue.png")] == "a blue circle from a sidecar"
        if harness.behaviour.metadata:
            assert captions[source.uri_of("pics/red.png")] == "a red circle from metadata"

    def test_odd_keys_list_and_read_back_under_their_own_uri(self, harness):
        for key in ODD_KEYS:
            harness.put(key, key.encode())
        source = harness.source(page_size=3)
        listed = [obj.key for obj in source.list()]
        assert listed == sorted(ODD_KEYS)
        for key in ODD_KEYS:
            assert read(source, key).data == key.encode()
        assert len({source.uri_of(key) for key in ODD_KEYS}) == len(ODD_KEYS)

    def test_newline_keys(self, harness):
        key = "new\nline.png"
        mode = harness.behaviour.newline_keys
        if mode == "refused":
            try:
                harness.put(key, b"x")
            except Exception as error:  # the server's own client reports the refusal
                refused: Exception | None = error
            else:
                refused = None
            assert refused is not None, f"{harness.name} stored a newline key"
            return
        harness.put(key, b"x")
        harness.put("fine.png", b"y")
        source = harness.source()
        if mode == "read":
            assert [obj.key for obj in source.list()] == ["fine.png", key]
            assert read(source, key).data == b"x"
            return
        assert mode == "stops_listing"
        with pytest.raises(ConfigError, match="rename the object") as caught:
            list(source.list())
        assert "new\\nline.png" in str(caught.value)  # the key is named, newline escaped

    def test_a_key_deleted_between_listing_and_read_is_reported_vanished(self, harness):
        harness.put("stays.png", b"a")
        harness.put("goes.png", b"b")
        source = harness.source()
        listed = [obj.key for obj in source.list()]
        assert listed == ["goes.png", "stays.png"]
        harness.delete("goes.png")
        with pytest.raises(ObjectVanished, match=r"goes\.png"):
            read(source, "goes.png")
        with pytest.raises(ObjectVanished, match=r"goes\.png"):
            source.open("goes.png").read()
        assert read(source, "stays.png").data == b"a"

    # --- the network -----------------------------------------------------------------------

    def test_transient_errors_are_retried(self, harness):
        if not harness.behaviour.network:
            pytest.skip(f"{harness.name}: no network between the client and the store")
        for i in range(5):
            harness.put(f"k/{i}", f"payload {i}".encode())
        with harness.proxied(page_size=2, max_retries=3) as (proxy, source):
            proxy.inject(2, "status", listings, status=503)
            proxy.inject(1, "drop", listings)
            assert [obj.key for obj in source.list()] == [f"k/{i}" for i in range(5)]
            proxy.inject(1, "status", object_reads, status=500)
            proxy.inject(1, "status", object_reads, status=503)
            proxy.inject(1, "drop", object_reads)
            assert read(source, "k/3").data == b"payload 3"
            assert len(proxy.injected) == 6

    def test_wrong_credentials_are_one_clear_error_that_never_shows_the_secret(self, harness):
        if not harness.behaviour.network:
            pytest.skip(f"{harness.name}: no credentials")
        harness.put("a.png", b"a")
        with harness.wrong_credentials() as (proxy, source, secret):
            with pytest.raises(AuthenticationFailed, match="Check the credentials") as caught:
                source.precheck()
            assert source.uri in str(caught.value)
            # names the settings that exist: source.gcs.* is MMINGEST_SOURCE__GCS__*
            assert f"MMINGEST_SOURCE__{harness.settings.upper()}__*" in str(caught.value)
            assert sum(listings(*request) for request in proxy.requests) == 1  # not retried
            with pytest.raises(AuthenticationFailed) as reading:
                read(source, "a.png")
            for error in (caught.value, reading.value):
                assert secret not in shown(error)
            assert secret not in repr(source.__dict__)

    def test_a_missing_bucket_fails_the_precheck_naming_it(self, harness):
        source = harness.missing_source()
        expected = SourceUnavailable if harness.behaviour.network else ConfigError
        with pytest.raises(expected) as caught:
            source.precheck()
        assert source.uri.rstrip("/").removeprefix("file://") in str(caught.value)

    def test_an_anonymous_source_reads_a_public_bucket(self, harness):
        source = harness.public_source({"open/a.png": b"public a", "open/b.png": b"public b"})
        assert [obj.key for obj in source.list()] == ["open/a.png", "open/b.png"]
        assert read(source, "open/b.png").data == b"public b"

    def test_rfc_2047_encoded_metadata_reads_as_text(self, harness):
        # Headers carry ASCII, so S3 returns a non-ASCII metadata value as RFC 2047 encoded
        # words; the caption must reach the collection as the text it was.
        encoded = "=?UTF-8?B?" + base64.b64encode("café crème".encode()).decode() + "?="
        harness.put("encoded.png", b"e", {"caption": encoded, "plain": "a=?b"})
        metadata = read(harness.source(), "encoded.png").metadata
        if harness.behaviour.metadata:
            assert metadata == {"caption": "café crème", "plain": "a=?b"}
        else:
            assert metadata == {}

    def test_metadata_a_client_cannot_decode_fails_that_object_alone(self, harness):
        try:
            harness.put("raw.png", b"r", {"caption": "café crème"})
        except Exception:
            pytest.skip(f"{harness.name}: the service's own client refuses non-ASCII metadata")
        harness.put("fine.png", b"f", {"caption": "plain"})
        source = harness.source()
        if not harness.behaviour.network:
            assert read(source, "raw.png").metadata == (
                {"caption": "café crème"} if harness.behaviour.metadata else {}
            )
            return
        # The value travels as a raw header; obstore refuses the whole response. That is a
        # property of the object, so it is terminal (dead-lettered alone), never retried.
        with pytest.raises(UnreadableMetadata, match=r"raw\.png.*RFC 2047"):
            read(source, "raw.png")
        assert read(source, "fine.png").metadata == {"caption": "plain"}
