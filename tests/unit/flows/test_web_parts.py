"""The web server's parts without a collection: caps, pictures, cache, settings, the command."""

from __future__ import annotations

import asyncio
import base64
import io
import json

import pytest
from PIL import Image

from mmingest.flows.web.errors import ApiError
from mmingest.flows.web.filters import conditions, depth, request_filter
from mmingest.flows.web.guard import RequestGuard
from mmingest.flows.web.pictures import Picture, PictureCache, render
from mmingest.flows.web.service import decode_upload
from mmingest.schemas.errors import InvalidInput
from mmingest.schemas.filters import eq, words
from mmingest.schemas.settings import Settings
from mmingest.schemas.web_config import WebConfig


def encoded(size, mode="RGB", fmt="PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size).save(buffer, format=fmt)
    return buffer.getvalue()


def test_pictures_are_bounded_and_plain_rasters():
    thumbnail = render(encoded((1200, 600), fmt="JPEG"), 256)
    assert thumbnail.media_type == "image/jpeg"
    assert Image.open(io.BytesIO(thumbnail.data)).size == (256, 128)
    clear = render(encoded((100, 300), mode="RGBA"), 150)
    assert clear.media_type == "image/png"
    assert Image.open(io.BytesIO(clear.data)).size == (50, 150)
    small = render(encoded((40, 30)), 256)
    assert Image.open(io.BytesIO(small.data)).size == (40, 30)  # never enlarged
    with pytest.raises(InvalidInput):
        render(b"<svg onload=alert(1)>", 256)


def test_picture_cache_is_bounded_by_bytes_and_least_recently_used():
    cache = PictureCache(max_bytes=10)
    cache.put(("a",), Picture(b"12345", "image/png"))
    cache.put(("b",), Picture(b"12345", "image/png"))
    assert cache.get(("a",)) is not None  # a is now the most recent
    cache.put(("c",), Picture(b"123", "image/png"))
    assert cache.get(("b",)) is None and cache.get(("a",)) is not None
    cache.put(("huge",), Picture(b"x" * 11, "image/png"))
    assert cache.get(("huge",)) is None and len(cache) == 2
    assert (cache.hits, cache.misses) == (2, 2)


def test_uploads_are_checked_before_decoding():
    data = encoded((10, 10))
    assert decode_upload(base64.b64encode(data).decode(), 4096) == data
    url = "data:image/png;base64," + base64.b64encode(data).decode()
    assert decode_upload(url, 4096) == data
    assert decode_upload(None, 4096) is None
    for value, code in [
        ("A" * 10_000, "upload_too_large"),
        ("data:image/png;base64", "bad_image_encoding"),
        ("%%%", "bad_image_encoding"),
        ("", "empty_image"),
    ]:
        with pytest.raises(ApiError) as refused:
            decode_upload(value, 4096)
        assert refused.value.code == code
    with pytest.raises(ApiError) as refused:
        decode_upload(base64.b64encode(b"x" * 2000).decode(), 1024)
    assert refused.value.status == 413 and "web.max_upload_bytes" in refused.value.message


def test_filters_are_combined_and_capped():
    config = WebConfig(max_filter_depth=3, max_filter_conditions=3)
    combined = request_filter(["kind=image,pdf_page", "page>=2"], words("caption", "red"), config)
    assert combined is not None and depth(combined) == 2 and conditions(combined) == 3
    assert request_filter([], None, config) is None
    assert request_filter([], eq("kind", "image"), config) == eq("kind", "image")
    with pytest.raises(ApiError) as refused:
        request_filter(["page>=1", "page<=3", "kind=image", "caption~x"], None, config)
    assert refused.value.code == "too_many_conditions"
    with pytest.raises(ApiError) as refused:
        request_filter(["kind=image"], ~~~eq("kind", "image"), config)
    assert refused.value.code == "filter_too_deep"
    with pytest.raises(ApiError) as refused:
        request_filter(["nope=1"], None, config)
    assert refused.value.code == "bad_filter"


def run_guard(body: bytes, *, declared: bool = True, chunk: int = 1 << 20):
    """Send ``body`` through the guard in chunks; returns (status, what the app received)."""
    received: list[bytes] = []
    sent: list[dict] = []

    async def app(scope, receive, send):
        message = await receive()
        received.append(message["body"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    guard = RequestGuard(app, max_body=1000, max_json_depth=4)
    chunks = [body[i : i + chunk] for i in range(0, len(body), chunk)] or [b""]
    messages = [
        {"type": "http.request", "body": part, "more_body": index < len(chunks) - 1}
        for index, part in enumerate(chunks)
    ]

    async def receive():
        return messages.pop(0)

    async def send(message):
        sent.append(message)

    headers = [(b"content-length", str(len(body)).encode())] if declared else []
    scope = {"type": "http", "method": "POST", "path": "/api/search", "headers": headers}
    asyncio.run(guard(scope, receive, send))
    start = sent[0]
    assert (b"x-content-type-options", b"nosniff") in start["headers"]
    return start["status"], received, sent[-1]["body"]


def test_the_guard_caps_size_and_depth_before_the_app_sees_the_body():
    body = json.dumps({"text": "red", "filters": {"op": "not", "filter": {"op": "eq"}}}).encode()
    assert run_guard(body)[:2] == (200, [body])
    status, received, answer = run_guard(b"x" * 2000)
    assert (status, received) == (413, [])
    assert json.loads(answer)["error"]["code"] == "request_too_large"
    # Without a Content-Length (chunked), the bytes are counted as they arrive.
    assert run_guard(b"x" * 2000, declared=False, chunk=300)[:2] == (413, [])
    deep = b'{"a": ' * 5 + b"1" + b"}" * 5
    status, received, answer = run_guard(deep)
    assert (status, received) == (422, [])
    assert json.loads(answer)["error"]["code"] == "filter_too_deep"


def test_web_settings_default_to_loopback_and_hide_the_key(monkeypatch):
    settings = Settings()
    assert settings.web.host == "127.0.0.1" and settings.web.api_key is None
    monkeypatch.setenv("MMINGEST_WEB__API_KEY", "s3cret-key")
    monkeypatch.setenv("MMINGEST_WEB__MAX_K", "20")
    settings = Settings()
    assert settings.web.api_key is not None
    assert settings.web.api_key.get_secret_value() == "s3cret-key"
    assert "s3cret-key" not in json.dumps(settings.redacted()) + repr(settings)
    assert settings.web.max_k == 20


def test_serve_is_a_command(capsys):
    from mmingest.flows.cli import main
    from mmingest.flows.serve import _loopback

    with pytest.raises(SystemExit) as exited:
        main(["serve", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "--host" in out and "--port" in out and "--tenant" in out
    assert _loopback("127.0.0.1") and _loopback("::1") and _loopback("localhost")
    assert not _loopback("0.0.0.0") and not _loopback("example.com")
