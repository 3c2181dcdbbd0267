"""Drive each provider emulator through the provider's real SDK (or its documented REST call).

Cohere (``cohere.ClientV2``), Voyage (``voyageai.Client``), DashScope (``dashscope.Client``) and
Vertex (``vertexai.vision_models`` over REST) are exercised through their SDKs with the base URL
pointed at the emulator; Azure Vision's vectorize endpoints, which no SDK wraps, and the Vertex
shapes the SDK cannot send (several instances, raw errors) through ``httpx``. Every enforced
limit, auth failure and fault type has a test.
"""

from __future__ import annotations

import base64
import io
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cohere
import dashscope
import google.api_core.exceptions
import google.oauth2.credentials
import httpx
import numpy as np
import pytest
import vertexai
import voyageai
import voyageai.error
from cohere.core.api_error import ApiError
from PIL import Image
from vertexai.vision_models import Image as VertexImage
from vertexai.vision_models import MultiModalEmbeddingModel, Video, VideoSegmentConfig

from tests.emulators.providers import (
    AzureVisionEmulator,
    CohereEmulator,
    DashScopeEmulator,
    VertexEmulator,
    VoyageEmulator,
)
from tests.emulators.providers.vectors import to_ubinary

pytestmark = pytest.mark.timeout(60)

KEY = "test-key"
MB = 1024 * 1024
# vertexai.vision_models warns it is deprecated, yet it is the SDK for multimodalembedding@001.
VERTEX_SDK_DEPRECATION = pytest.mark.filterwarnings("ignore:This feature is deprecated")


def image_bytes(
    size: tuple[int, int] = (64, 48), color: tuple[int, int, int] = (200, 30, 30), fmt: str = "PNG"
) -> bytes:
    """A small solid-colour image in ``fmt``."""
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, fmt)
    return buffer.getvalue()


def padded(data: bytes, total: int) -> bytes:
    """The image followed by filler up to ``total`` bytes: still decodable, just large."""
    return data + b"\0" * (total - len(data))


def data_uri(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def norm(vector: Any) -> float:
    return float(np.linalg.norm(np.asarray(vector, dtype=np.float64)))


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def cohere_emu() -> Iterator[CohereEmulator]:
    with CohereEmulator(api_key=KEY) as emulator:
        yield emulator


@pytest.fixture
def co(cohere_emu: CohereEmulator) -> cohere.ClientV2:
    return cohere.ClientV2(api_key=KEY, base_url=cohere_emu.base_url, max_retries=0)


@pytest.fixture
def voyage_emu() -> Iterator[VoyageEmulator]:
    with VoyageEmulator(api_key=KEY) as emulator:
        yield emulator


@pytest.fixture
def vo(voyage_emu: VoyageEmulator) -> voyageai.Client:
    return voyageai.Client(api_key=KEY, base_url=voyage_emu.base_url)


@pytest.fixture
def vertex_emu() -> Iterator[VertexEmulator]:
    with VertexEmulator(api_key="ya29.test-token") as emulator:
        yield emulator


@pytest.fixture
def azure_emu() -> Iterator[AzureVisionEmulator]:
    with AzureVisionEmulator(api_key=KEY) as emulator:
        yield emulator


@pytest.fixture
def dashscope_emu() -> Iterator[DashScopeEmulator]:
    with DashScopeEmulator(api_key=KEY) as emulator:
        yield emulator


@pytest.fixture
def ds(dashscope_emu: DashScopeEmulator) -> Iterator[dashscope.Client]:
    client = dashscope.Client(api_key=KEY, base_url=dashscope_emu.base_url, max_retries=0)
    yield client
    client.close()


# -- base behaviour ------------------------------------------------------------------------


def test_server_binds_loopback_on_an_ephemeral_port_and_stops() -> None:
    emulator = CohereEmulator(api_key=KEY)
    with pytest.raises(RuntimeError, match="not running"):
        _ = emulator.url
    with emulator:
        assert emulator.url.startswith("http://127.0.0.1:")
        assert emulator.port > 0
        assert (
            httpx.post(emulator.url + "/v2/nope", headers={"Authorization": "Bearer x"}).status_code
            == 404
        )
    with pytest.raises(httpx.ConnectError):
        httpx.post(f"http://127.0.0.1:{emulator.port}/v2/embed", timeout=1)


def test_request_log_redacts_auth_and_keeps_the_parsed_body(
    co: cohere.ClientV2, cohere_emu: CohereEmulator
) -> None:
    co.embed(model="embed-v4.0", input_type="search_query", texts=["red shoe"])
    (entry,) = cohere_emu.requests
    assert (entry.method, entry.path, entry.status) == ("POST", "/v2/embed", 200)
    assert entry.headers["authorization"] == "[REDACTED]"
    assert KEY not in repr(entry)
    assert entry.body["texts"] == ["red shoe"]
    assert entry.body["input_type"] == "search_query"


def test_vectors_are_deterministic_per_content_and_differ_across_content() -> None:
    with CohereEmulator(api_key=KEY) as first, CohereEmulator(api_key=KEY) as second:
        a = cohere.ClientV2(api_key=KEY, base_url=first.base_url).embed(
            model="embed-v4.0", input_type="search_document", texts=["alpha", "beta"]
        )
        b = cohere.ClientV2(api_key=KEY, base_url=second.base_url).embed(
            model="embed-v4.0", input_type="search_query", texts=["alpha"]
        )
    assert a.embeddings.float_[0] == b.embeddings.float_[0]
    assert a.embeddings.float_[0] != a.embeddings.float_[1]


def test_counters_and_reset(co: cohere.ClientV2, cohere_emu: CohereEmulator) -> None:
    co.embed(model="embed-v4.0", input_type="search_document", texts=["one two", "three"])
    cohere_emu.fail_next(1, status=500)
    with pytest.raises(cohere.InternalServerError):
        co.embed(model="embed-v4.0", input_type="search_document", texts=["x"])
    counters = cohere_emu.counters
    assert counters.requests_received == 2
    assert counters.requests_served == 1
    assert counters.errors_sent == 1
    assert counters.inputs_embedded == 2
    assert counters.billed_units == {"input_tokens": 3}
    cohere_emu.reset()
    assert cohere_emu.counters.requests_received == 0
    assert cohere_emu.requests == []


def test_stop_does_not_wait_out_an_injected_delay(cohere_emu: CohereEmulator) -> None:
    cohere_emu.delay_next(1, seconds=30)
    with pytest.raises(httpx.TimeoutException):
        httpx.post(
            cohere_emu.url + "/v2/embed",
            json={"model": "embed-v4.0", "input_type": "search_query", "texts": ["x"]},
            headers={"Authorization": f"Bearer {KEY}"},
            timeout=0.2,
        )
    started = time.monotonic()
    cohere_emu.stop()
    assert time.monotonic() - started < 3


def test_cli_runs_one_emulator_standalone() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.emulators.providers",
            "voyage",
            "--port",
            "0",
            "--api-key",
            "k",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "voyage emulator on http://127.0.0.1:" in line
        base_url = line.split("SDK base URL ")[1].split(")")[0]
        response = httpx.post(
            base_url + "/multimodalembeddings",
            json={
                "model": "voyage-multimodal-3",
                "inputs": [{"content": [{"type": "text", "text": "hi"}]}],
            },
            headers={"Authorization": "Bearer k"},
        )
        assert response.status_code == 200
        assert len(response.json()["data"][0]["embedding"]) == 1024
    finally:
        process.terminate()
        process.wait(timeout=10)


# -- Cohere (cohere.ClientV2) --------------------------------------------------------------


def test_cohere_texts_in_every_embedding_type(co: cohere.ClientV2) -> None:
    types = ["float", "int8", "uint8", "binary", "ubinary", "base64"]
    response = co.embed(
        model="embed-v4.0",
        input_type="search_document",
        texts=["a red running shoe", "a blue kettle"],
        embedding_types=types,
        output_dimension=512,
    )
    emb = response.embeddings
    floats = np.asarray(emb.float_[0], dtype=np.float32)
    assert len(emb.float_) == 2
    assert floats.shape == (512,)
    assert norm(floats) == pytest.approx(1.0, abs=1e-5)
    assert emb.float_[0] != emb.float_[1]
    assert all(-128 <= v <= 127 for v in emb.int8[0])
    assert len(emb.int8[0]) == 512
    assert all(0 <= v <= 255 for v in emb.uint8[0])
    assert emb.ubinary[0] == to_ubinary(floats).tolist()
    assert emb.binary[0] == [v - 128 for v in emb.ubinary[0]]
    assert len(emb.binary[0]) == 64
    decoded = np.frombuffer(base64.b64decode(emb.base64[0]), dtype="<f4")
    assert decoded.tolist() == pytest.approx(emb.float_[0])
    assert response.texts == ["a red running shoe", "a blue kettle"]
    assert response.meta.billed_units.input_tokens == 7


def test_cohere_lower_output_dimension_is_a_renormalized_prefix(co: cohere.ClientV2) -> None:
    full = co.embed(model="embed-v4.0", input_type="search_query", texts=["kettle"])
    small = co.embed(
        model="embed-v4.0", input_type="search_query", texts=["kettle"], output_dimension=256
    )
    full_vec = np.asarray(full.embeddings.float_[0])
    assert full_vec.shape == (1536,)
    prefix = full_vec[:256] / np.linalg.norm(full_vec[:256])
    assert np.allclose(prefix, small.embeddings.float_[0], atol=1e-5)


def test_cohere_images_as_data_uris(co: cohere.ClientV2, cohere_emu: CohereEmulator) -> None:
    red, blue = image_bytes(color=(255, 0, 0)), image_bytes(size=(56, 56), color=(0, 0, 255))
    response = co.embed(
        model="embed-v4.0", input_type="image", images=[data_uri(red), data_uri(blue)]
    )
    assert len(response.embeddings.float_) == 2
    assert response.embeddings.float_[0] != response.embeddings.float_[1]
    assert [(i.width, i.height, i.format) for i in response.images] == [
        (64, 48, "png"),
        (56, 56, "png"),
    ]
    # Both images are at or under the 3,136-pixel floor, so each bills 4 tiles of 28x28.
    assert response.meta.billed_units.image_tokens == 8
    assert cohere_emu.counters.inputs_embedded == 2


def test_cohere_mixed_inputs_give_one_vector_from_text_and_image(co: cohere.ClientV2) -> None:
    image = data_uri(image_bytes())
    mixed = {
        "content": [
            {"type": "text", "text": "red shoe"},
            {"type": "image_url", "image_url": {"url": image}},
        ]
    }
    both = co.embed(model="embed-v4.0", input_type="search_document", inputs=[mixed, mixed])
    text_only = co.embed(model="embed-v4.0", input_type="search_document", texts=["red shoe"])
    image_only = co.embed(model="embed-v4.0", input_type="search_document", images=[image])
    assert len(both.embeddings.float_) == 2
    assert both.embeddings.float_[0] == both.embeddings.float_[1]
    assert both.embeddings.float_[0] != text_only.embeddings.float_[0]
    assert both.embeddings.float_[0] != image_only.embeddings.float_[0]
    assert both.meta.billed_units.input_tokens == 4
    assert both.meta.billed_units.image_tokens == 8


def _embed_args(**overrides: Any) -> dict[str, Any]:
    return {"model": "embed-v4.0", "input_type": "search_document", "texts": ["x"]} | overrides


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"texts": ["t"] * 97}, "total number of texts must be at most 96 - received 97"),
        (
            {"texts": None, "inputs": [{"content": [{"type": "text", "text": "t"}]}] * 97},
            "total number of inputs must be at most 96 - received 97",
        ),
        ({"output_dimension": 300}, "output_dimension must be one of 256, 512, 1024, 1536"),
        ({"input_type": "query"}, "input_type must be one of search_document"),
        ({"input_type": None}, "valid input_type must be provided with the provided model"),
        ({"images": [data_uri(image_bytes())]}, "exactly one of texts, images or inputs"),
        (
            {
                "model": "embed-english-v3.0",
                "texts": None,
                "images": [data_uri(padded(image_bytes(), 5 * MB + 1))],
            },
            "image size must be at most 5MB",
        ),
        ({"embedding_types": ["float16"]}, "embedding_types must contain only"),
        (
            {"texts": None, "images": [data_uri(image_bytes(fmt="BMP"), "image/bmp")]},
            "must be one of image/jpeg, image/png, image/webp, image/gif",
        ),
        (
            {"texts": ["one two three four five six"], "max_tokens": 3, "truncate": "NONE"},
            "too many tokens",
        ),
        (
            {"model": "embed-english-v3.0", "texts": None, "images": [data_uri(image_bytes())] * 2},
            "total number of images must be at most 1",
        ),
        (
            {"model": "embed-english-v3.0", "output_dimension": 256},
            "output_dimension is not supported",
        ),
    ],
)
def test_cohere_rejects_what_the_api_rejects(
    co: cohere.ClientV2, overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(cohere.BadRequestError) as caught:
        co.embed(**_embed_args(**overrides))
    assert caught.value.status_code == 400
    assert message in caught.value.body["message"]


def test_cohere_rejects_images_over_20mb_combined(co: cohere.ClientV2) -> None:
    half = data_uri(padded(image_bytes(), 10 * MB + 1))
    with pytest.raises(cohere.BadRequestError) as caught:
        co.embed(model="embed-v4.0", input_type="image", images=[half, half])
    assert "combined size of all images must be at most 20MB" in caught.value.body["message"]
    ok = co.embed(model="embed-v4.0", input_type="image", images=[half])
    assert len(ok.embeddings.float_) == 1


def test_cohere_truncation_keeps_long_inputs_within_max_tokens(co: cohere.ClientV2) -> None:
    response = co.embed(**_embed_args(texts=["one two three four five six"], max_tokens=3))
    assert response.meta.billed_units.input_tokens == 3


def test_cohere_unknown_model_is_404(co: cohere.ClientV2) -> None:
    with pytest.raises(cohere.NotFoundError) as caught:
        co.embed(**_embed_args(model="embed-v9"))
    assert "model 'embed-v9' not found" in caught.value.body["message"]


def test_cohere_auth_failures(cohere_emu: CohereEmulator) -> None:
    wrong = cohere.ClientV2(api_key="wrong", base_url=cohere_emu.base_url, max_retries=0)
    with pytest.raises(cohere.UnauthorizedError) as caught:
        wrong.embed(**_embed_args())
    assert caught.value.body == {"message": "invalid api token"}
    missing = httpx.post(cohere_emu.url + "/v2/embed", json=_embed_args())
    assert (missing.status_code, missing.json()) == (401, {"message": "no api key supplied"})


def test_cohere_sdk_retries_429_after_retry_after(cohere_emu: CohereEmulator) -> None:
    client = cohere.ClientV2(api_key=KEY, base_url=cohere_emu.base_url)  # SDK default: 2 retries
    # 2 s, not 1 s: the SDK's own first backoff is 1 s, so only Retry-After explains the wait.
    cohere_emu.fail_next(1, status=429, retry_after=2)
    response = client.embed(**_embed_args())
    assert len(response.embeddings.float_) == 1
    first, second = cohere_emu.requests
    assert (first.status, first.fault, second.status) == (429, "fail", 200)
    assert second.received_at - first.received_at >= 1.95
    assert cohere_emu.counters.rate_limited == 1


def test_cohere_sdk_gives_up_on_5xx_after_its_retries(cohere_emu: CohereEmulator) -> None:
    client = cohere.ClientV2(api_key=KEY, base_url=cohere_emu.base_url, max_retries=1)
    cohere_emu.fail_next(2, status=503, retry_after=1)
    with pytest.raises(cohere.ServiceUnavailableError):
        client.embed(**_embed_args())
    assert [r.status for r in cohere_emu.requests] == [503, 503]
    cohere_emu.fail_next(1, status=502)
    with pytest.raises(ApiError) as caught:
        cohere.ClientV2(api_key=KEY, base_url=cohere_emu.base_url, max_retries=0).embed(
            **_embed_args()
        )
    assert caught.value.status_code == 502
    assert caught.value.body == {"message": "Bad gateway"}


def test_cohere_slow_response_times_out(co: cohere.ClientV2, cohere_emu: CohereEmulator) -> None:
    cohere_emu.delay_next(1, seconds=2)
    with pytest.raises(httpx.ReadTimeout):
        co.embed(**_embed_args(), request_options={"timeout_in_seconds": 0.3})
    assert len(co.embed(**_embed_args()).embeddings.float_) == 1


def test_cohere_malformed_json_surfaces_as_api_error(
    co: cohere.ClientV2, cohere_emu: CohereEmulator
) -> None:
    cohere_emu.malformed_next(1)
    with pytest.raises(ApiError) as caught:
        co.embed(**_embed_args())
    assert caught.value.status_code == 200


def test_cohere_truncated_body_is_not_retried_unless_asked(cohere_emu: CohereEmulator) -> None:
    client = cohere.ClientV2(api_key=KEY, base_url=cohere_emu.base_url)
    cohere_emu.truncated_next(1)
    with pytest.raises(httpx.RemoteProtocolError):
        client.embed(**_embed_args())
    cohere_emu.truncated_next(1)
    response = client.embed(**_embed_args(), request_options={"retry_remote_protocol_errors": True})
    assert len(response.embeddings.float_) == 1
    assert [r.fault for r in cohere_emu.requests] == ["truncated", "truncated", None]


def test_cohere_dropped_connection_raises(co: cohere.ClientV2, cohere_emu: CohereEmulator) -> None:
    cohere_emu.drop_next(1)
    with pytest.raises(httpx.RemoteProtocolError):
        co.embed(**_embed_args())
    assert cohere_emu.counters.dropped == 1
    assert cohere_emu.requests[0].status is None


def test_rate_limit_enforces_a_sliding_window(cohere_emu: CohereEmulator) -> None:
    cohere_emu.rate_limit(3, window_seconds=1.0)
    with httpx.Client(headers={"Authorization": f"Bearer {KEY}"}) as http:
        statuses = [http.post(cohere_emu.url + "/v2/embed", json=_embed_args()) for _ in range(4)]
        assert [r.status_code for r in statuses] == [200, 200, 200, 429]
        assert statuses[-1].headers["Retry-After"] == "1"
        assert "rate limit" in statuses[-1].json()["message"]
        time.sleep(1.05)
        assert http.post(cohere_emu.url + "/v2/embed", json=_embed_args()).status_code == 200
    counters = cohere_emu.counters
    assert (counters.requests_served, counters.rate_limited) == (4, 1)


def test_rate_limit_per_minute_reports_the_wait(cohere_emu: CohereEmulator) -> None:
    cohere_emu.rate_limit(requests_per_minute=2)
    with httpx.Client(headers={"Authorization": f"Bearer {KEY}"}) as http:
        codes = [http.post(cohere_emu.url + "/v2/embed", json=_embed_args()) for _ in range(3)]
    assert [r.status_code for r in codes] == [200, 200, 429]
    assert 55 <= int(codes[-1].headers["Retry-After"]) <= 60
    cohere_emu.rate_limit(None)
    client = cohere.ClientV2(api_key=KEY, base_url=cohere_emu.base_url, max_retries=0)
    assert len(client.embed(**_embed_args()).embeddings.float_) == 1


# -- Voyage (voyageai.Client) --------------------------------------------------------------


def test_voyage_interleaved_text_and_image(vo: voyageai.Client, voyage_emu: VoyageEmulator) -> None:
    picture = Image.new("RGB", (56, 40), (10, 200, 10))
    result = vo.multimodal_embed(
        inputs=[["a green swatch", picture], ["a green swatch"]],
        model="voyage-multimodal-3",
        input_type="document",
    )
    mixed, text_only = result.embeddings
    assert len(mixed) == 1024
    assert norm(mixed) == pytest.approx(1.0, abs=1e-5)
    assert mixed != text_only
    assert (result.text_tokens, result.image_pixels) == (6, 56 * 40)
    assert result.total_tokens == 6 + (56 * 40) // 560
    body = voyage_emu.requests[0].body
    assert voyage_emu.requests[0].path == "/v1/multimodalembeddings"
    assert body["encoding_format"] == "base64"  # the SDK asks for base64 and decodes it
    assert [c["type"] for c in body["inputs"][0]["content"]] == ["text", "image_base64"]
    assert body["inputs"][0]["content"][1]["image_base64"].startswith("data:image/webp;base64,")
    again = vo.multimodal_embed(inputs=[["a green swatch", picture]], model="voyage-multimodal-3")
    assert again.embeddings[0] == mixed


def test_voyage_image_urls_are_fetched_from_registered_assets(
    vo: voyageai.Client, voyage_emu: VoyageEmulator
) -> None:
    url = "https://assets.example/shoe.jpg"
    jpeg = image_bytes(fmt="JPEG")
    voyage_emu.register_asset(url, jpeg)
    by_url = vo.multimodal_embed(
        inputs=[{"content": [{"type": "image_url", "image_url": url}]}], model="voyage-multimodal-3"
    )
    by_data = vo.multimodal_embed(
        inputs=[
            {"content": [{"type": "image_base64", "image_base64": data_uri(jpeg, "image/jpeg")}]}
        ],
        model="voyage-multimodal-3",
    )
    assert by_url.embeddings == by_data.embeddings
    with pytest.raises(voyageai.error.InvalidRequestError, match="unable to download"):
        vo.multimodal_embed(
            inputs=[
                {"content": [{"type": "image_url", "image_url": "https://assets.example/gone.png"}]}
            ],
            model="voyage-multimodal-3",
        )


def test_voyage_35_dimensions_and_quantized_dtypes(vo: voyageai.Client) -> None:
    inputs = [["quantize me"]]
    floats = vo.multimodal_embed(inputs=inputs, model="voyage-multimodal-3.5", output_dimension=256)
    int8 = vo.multimodal_embed(
        inputs=inputs, model="voyage-multimodal-3.5", output_dimension=256, output_dtype="int8"
    )
    ubinary = vo.multimodal_embed(
        inputs=inputs, model="voyage-multimodal-3.5", output_dimension=256, output_dtype="ubinary"
    )
    assert len(floats.embeddings[0]) == 256
    assert len(int8.embeddings[0]) == 256
    assert all(-128 <= v <= 127 for v in int8.embeddings[0])
    expected = to_ubinary(np.asarray(floats.embeddings[0], dtype=np.float32)).tolist()
    assert ubinary.embeddings[0] == expected


def _content(*pieces: dict[str, Any]) -> dict[str, Any]:
    return {"content": list(pieces)}


def _text(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"inputs": [_content(_text("x"))] * 1001}, "must not exceed 1000"),
        (
            {"inputs": [_content(_text("word " * 32_001))], "truncation": False},
            "exceeding the 32,000-token limit per input",
        ),
        (
            {"inputs": [_content(_text("word " * 30_000))] * 11},
            "exceeding the 320,000-token limit per request",
        ),
        (
            {
                "inputs": [
                    _content({"type": "image_base64", "image_base64": data_uri(image_bytes())}),
                    _content({"type": "image_url", "image_url": "https://assets.example/a.png"}),
                ]
            },
            "either image_url or image_base64",
        ),
        (
            {"inputs": [_content(_text("x"))], "input_type": "search_query"},
            "input_type must be null",
        ),
        (
            {"inputs": [_content(_text("x"))], "output_dtype": "int8"},
            "output_dtype 'int8' is not supported",
        ),
        (
            {"inputs": [_content(_text("x"))], "model": "voyage-3-large"},
            "is not supported. Supported",
        ),
        (
            {"inputs": [_content(_text("x"))], "output_dimension": 512},
            "output_dimension 512 is not supported",
        ),
        (
            {
                "inputs": [
                    _content(
                        {
                            "type": "image_base64",
                            "image_base64": data_uri(image_bytes(fmt="BMP"), "image/bmp"),
                        }
                    )
                ]
            },
            "unsupported image media type",
        ),
    ],
)
def test_voyage_rejects_what_the_api_rejects(
    vo: voyageai.Client, voyage_emu: VoyageEmulator, kwargs: dict[str, Any], message: str
) -> None:
    voyage_emu.register_asset("https://assets.example/a.png", image_bytes())
    with pytest.raises(voyageai.error.InvalidRequestError, match=message) as caught:
        vo.multimodal_embed(**({"model": "voyage-multimodal-3"} | kwargs))
    assert caught.value.http_status == 400
    assert "detail" in caught.value.json_body


def test_voyage_truncation_clips_a_long_input_instead(vo: voyageai.Client) -> None:
    result = vo.multimodal_embed(inputs=[["word " * 32_001]], model="voyage-multimodal-3")
    assert result.total_tokens == 32_000


def test_voyage_rejects_images_over_16_million_pixels(vo: voyageai.Client) -> None:
    huge = image_bytes(size=(4001, 4001))  # 16,008,001 pixels
    with pytest.raises(voyageai.error.InvalidRequestError, match="16 million pixels"):
        vo.multimodal_embed(
            inputs=[_content({"type": "image_base64", "image_base64": data_uri(huge)})],
            model="voyage-multimodal-3",
        )
    fine = image_bytes(size=(4000, 4000))
    result = vo.multimodal_embed(
        inputs=[_content({"type": "image_base64", "image_base64": data_uri(fine)})],
        model="voyage-multimodal-3",
    )
    assert result.image_pixels == 16_000_000


def test_voyage_rejects_images_over_20mb(vo: voyageai.Client) -> None:
    big = padded(image_bytes(), 20 * MB + 1)
    with pytest.raises(voyageai.error.InvalidRequestError, match="above the 20 MB limit"):
        vo.multimodal_embed(
            inputs=[_content({"type": "image_base64", "image_base64": data_uri(big)})],
            model="voyage-multimodal-3",
        )


def test_voyage_auth_failure(voyage_emu: VoyageEmulator) -> None:
    client = voyageai.Client(api_key="wrong", base_url=voyage_emu.base_url)
    with pytest.raises(voyageai.error.AuthenticationError, match="Provided API key is invalid"):
        client.multimodal_embed(inputs=[["x"]], model="voyage-multimodal-3")


def test_voyage_sdk_retries_429_only_when_max_retries_allows(voyage_emu: VoyageEmulator) -> None:
    # voyageai uses tenacity stop_after_attempt(max_retries): max_retries=1 means one attempt.
    one_attempt = voyageai.Client(api_key=KEY, base_url=voyage_emu.base_url, max_retries=1)
    voyage_emu.fail_next(1, status=429, retry_after=1)
    with pytest.raises(voyageai.error.RateLimitError):
        one_attempt.multimodal_embed(inputs=[["x"]], model="voyage-multimodal-3")
    two_attempts = voyageai.Client(api_key=KEY, base_url=voyage_emu.base_url, max_retries=2)
    voyage_emu.fail_next(1, status=429, retry_after=1)
    result = two_attempts.multimodal_embed(inputs=[["x"]], model="voyage-multimodal-3")
    assert len(result.embeddings) == 1
    assert [r.status for r in voyage_emu.requests] == [429, 429, 200]


def test_voyage_sdk_does_not_retry_500(voyage_emu: VoyageEmulator) -> None:
    client = voyageai.Client(api_key=KEY, base_url=voyage_emu.base_url, max_retries=3)
    voyage_emu.fail_next(1, status=500)
    with pytest.raises(voyageai.error.ServerError):
        client.multimodal_embed(inputs=[["x"]], model="voyage-multimodal-3")
    assert len(voyage_emu.requests) == 1


def test_voyage_malformed_truncated_dropped_and_slow(
    vo: voyageai.Client, voyage_emu: VoyageEmulator
) -> None:
    voyage_emu.malformed_next(1)
    with pytest.raises(voyageai.error.APIError, match="HTTP code 200"):
        vo.multimodal_embed(inputs=[["x"]], model="voyage-multimodal-3")
    voyage_emu.truncated_next(1)
    with pytest.raises(voyageai.error.APIConnectionError):
        vo.multimodal_embed(inputs=[["x"]], model="voyage-multimodal-3")
    voyage_emu.drop_next(1)
    with pytest.raises(voyageai.error.APIConnectionError):
        vo.multimodal_embed(inputs=[["x"]], model="voyage-multimodal-3")
    voyage_emu.delay_next(1, seconds=2)
    slow = voyageai.Client(api_key=KEY, base_url=voyage_emu.base_url, timeout=0.3)
    with pytest.raises(voyageai.error.Timeout):
        slow.multimodal_embed(inputs=[["x"]], model="voyage-multimodal-3")
    assert [r.fault for r in voyage_emu.requests] == ["malformed", "truncated", "drop", "delay"]


# -- Vertex AI multimodalembedding@001 (REST :predict) -------------------------------------


def _predict(
    emu: VertexEmulator, body: dict[str, Any], token: str = "ya29.test-token"
) -> httpx.Response:
    return httpx.post(
        emu.url + emu.predict_path(),
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


def test_vertex_text_and_image_embeddings(vertex_emu: VertexEmulator) -> None:
    image = image_bytes()
    body = {"instances": [{"text": "a red shoe", "image": {"bytesBase64Encoded": b64(image)}}]}
    response = _predict(vertex_emu, body)
    assert response.status_code == 200
    (prediction,) = response.json()["predictions"]
    assert len(prediction["textEmbedding"]) == 1408
    assert len(prediction["imageEmbedding"]) == 1408
    assert prediction["textEmbedding"] != prediction["imageEmbedding"]
    assert norm(prediction["imageEmbedding"]) == pytest.approx(1.0, abs=1e-5)

    vertex_emu.register_asset("gs://bucket/shoe.png", image)
    by_uri = {"instances": [{"image": {"gcsUri": "gs://bucket/shoe.png", "mimeType": "image/png"}}]}
    assert (
        _predict(vertex_emu, by_uri).json()["predictions"][0]["imageEmbedding"]
        == (prediction["imageEmbedding"])
    )
    small = _predict(vertex_emu, body | {"parameters": {"dimension": 128}}).json()["predictions"][0]
    assert len(small["textEmbedding"]) == len(small["imageEmbedding"]) == 128
    assert vertex_emu.counters.billed_units == {"text_characters": 20, "images": 3}


def test_vertex_video_segments(vertex_emu: VertexEmulator) -> None:
    vertex_emu.register_asset("gs://bucket/clip.mp4", b"\x00\x00\x00\x18ftypmp42 fake video")
    config = {"startOffsetSec": 0, "endOffsetSec": 40, "intervalSec": 16}
    video = {"gcsUri": "gs://bucket/clip.mp4", "videoSegmentConfig": config}
    response = _predict(
        vertex_emu, {"instances": [{"video": video}], "parameters": {"dimension": 256}}
    )
    segments = response.json()["predictions"][0]["videoEmbeddings"]
    assert [(s["startOffsetSec"], s["endOffsetSec"]) for s in segments] == [
        (0, 16),
        (16, 32),
        (32, 40),
    ]
    assert all(
        len(s["embedding"]) == 1408 for s in segments
    )  # dimension applies to text/image only
    assert segments[0]["embedding"] != segments[1]["embedding"]


@pytest.fixture
def vertex_model(vertex_emu: VertexEmulator) -> Any:
    """The real vertexai SDK model, over REST, pointed at the emulator."""
    vertexai.init(
        project="test-project",
        location="us-central1",
        api_endpoint=vertex_emu.url,
        api_transport="rest",
        credentials=google.oauth2.credentials.Credentials("ya29.test-token"),
    )
    return MultiModalEmbeddingModel.from_pretrained("multimodalembedding@001")


@VERTEX_SDK_DEPRECATION
def test_vertex_sdk_text_image_and_video(vertex_emu: VertexEmulator, vertex_model: Any) -> None:
    image = image_bytes()
    response = vertex_model.get_embeddings(
        image=VertexImage(image), contextual_text="a red shoe", dimension=256
    )
    assert len(response.image_embedding) == len(response.text_embedding) == 256
    vertex_emu.register_asset("gs://bucket/clip.mp4", b"fake mp4")
    video = vertex_model.get_embeddings(
        video=Video(gcs_uri="gs://bucket/clip.mp4"),
        video_segment_config=VideoSegmentConfig(
            start_offset_sec=0, end_offset_sec=32, interval_sec=16
        ),
    )
    assert [(v.start_offset_sec, v.end_offset_sec) for v in video.video_embeddings] == [
        (0, 16),
        (16, 32),
    ]
    predict = vertex_emu.requests[1]
    assert predict.path == vertex_emu.predict_path()
    assert predict.body["instances"][0]["image"] == {"bytesBase64Encoded": b64(image)}
    assert predict.body["parameters"] == {"dimension": 256}  # sent as 256.0, a protobuf double
    assert vertex_emu.internal_errors == []


@VERTEX_SDK_DEPRECATION
def test_vertex_sdk_errors_are_not_retried(vertex_emu: VertexEmulator, vertex_model: Any) -> None:
    with pytest.raises(google.api_core.exceptions.BadRequest, match="smaller than 1024 characters"):
        vertex_model.get_embeddings(contextual_text="x" * 1024)
    vertex_emu.fail_next(1, status=429, retry_after=1)
    with pytest.raises(google.api_core.exceptions.TooManyRequests, match="Quota exceeded"):
        vertex_model.get_embeddings(contextual_text="x")
    vertex_emu.fail_next(1, status=503)
    with pytest.raises(google.api_core.exceptions.ServiceUnavailable):
        vertex_model.get_embeddings(contextual_text="x")
    assert [r.status for r in vertex_emu.requests[1:]] == [400, 429, 503]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"instances": [{"text": "a"}, {"text": "b"}]},
            "1 instance(s) is allowed per prediction. Actual: 2",
        ),
        ({"instances": [{"text": "x" * 1024}]}, "Text field must be smaller than 1024 characters"),
        ({"instances": [{"text": "x"}], "parameters": {"dimension": 300}}, "Invalid dimension 300"),
        (
            {
                "instances": [
                    {"image": {"bytesBase64Encoded": b64(padded(image_bytes(), 20 * MB + 1))}}
                ]
            },
            "the image size limit is 20 MB",
        ),
        (
            {
                "instances": [
                    {"image": {"bytesBase64Encoded": b64(image_bytes()), "gcsUri": "gs://b/x"}}
                ]
            },
            "exactly one of bytesBase64Encoded or gcsUri",
        ),
        (
            {
                "instances": [
                    {
                        "video": {
                            "bytesBase64Encoded": b64(b"v"),
                            "videoSegmentConfig": {"intervalSec": 3},
                        }
                    }
                ]
            },
            "intervalSec must be at least 4",
        ),
        (
            {"instances": [{"image": {"bytesBase64Encoded": b64(image_bytes(fmt="WEBP"))}}]},
            "unsupported image format",
        ),
        ({"instances": [{}]}, "needs at least one of text, image or video"),
        (
            {
                "instances": [
                    {"image": {"bytesBase64Encoded": b64(image_bytes()), "mimeType": "image/tiff"}}
                ]
            },
            "mimeType must be one of image/png, image/jpeg",
        ),
    ],
)
def test_vertex_rejects_what_the_api_rejects(
    vertex_emu: VertexEmulator, body: dict[str, Any], message: str
) -> None:
    response = _predict(vertex_emu, body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["status"]) == (400, "INVALID_ARGUMENT")
    assert message in error["message"]


def test_vertex_text_just_under_the_limit_is_accepted(vertex_emu: VertexEmulator) -> None:
    assert _predict(vertex_emu, {"instances": [{"text": "x" * 1023}]}).status_code == 200


def test_vertex_unknown_model_and_auth(vertex_emu: VertexEmulator) -> None:
    path = vertex_emu.predict_path().replace("multimodalembedding@001", "imagetext@001")
    response = httpx.post(
        vertex_emu.url + path,
        json={"instances": [{"text": "x"}]},
        headers={"Authorization": "Bearer ya29.test-token"},
    )
    assert (response.status_code, response.json()["error"]["status"]) == (404, "NOT_FOUND")
    unauthenticated = _predict(vertex_emu, {"instances": [{"text": "x"}]}, token="expired")
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["error"]["status"] == "UNAUTHENTICATED"


def test_vertex_quota_and_server_errors(vertex_emu: VertexEmulator) -> None:
    vertex_emu.rate_limit(1)
    assert _predict(vertex_emu, {"instances": [{"text": "x"}]}).status_code == 200
    limited = _predict(vertex_emu, {"instances": [{"text": "x"}]})
    assert limited.status_code == 429
    assert limited.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert "Retry-After" in limited.headers
    vertex_emu.rate_limit(None)
    vertex_emu.fail_next(1, status=503)
    unavailable = _predict(vertex_emu, {"instances": [{"text": "x"}]})
    assert (unavailable.status_code, unavailable.json()["error"]["status"]) == (503, "UNAVAILABLE")


# -- Azure AI Vision multimodal embeddings 4.0 (REST) --------------------------------------

AZURE_QUERY = {"api-version": "2024-02-01", "model-version": "2023-04-15"}


def _vectorize(
    emu: AzureVisionEmulator,
    kind: str,
    *,
    query: dict[str, str] | None = None,
    key: str | None = KEY,
    **request: Any,
) -> httpx.Response:
    headers = dict(request.pop("headers", {}))
    if key is not None:
        headers["Ocp-Apim-Subscription-Key"] = key
    return httpx.post(
        f"{emu.url}/computervision/retrieval:{kind}",
        params=AZURE_QUERY if query is None else query,
        headers=headers,
        timeout=10,
        **request,
    )


def _azure_image(emu: AzureVisionEmulator, data: bytes, **kwargs: Any) -> httpx.Response:
    return _vectorize(
        emu,
        "vectorizeImage",
        content=data,
        headers={"Content-Type": "application/octet-stream"},
        **kwargs,
    )


def test_azure_vectorize_image_binary_url_and_text(azure_emu: AzureVisionEmulator) -> None:
    image = image_bytes()
    binary = _azure_image(azure_emu, image)
    assert binary.status_code == 200
    assert binary.json()["modelVersion"] == "2023-04-15"
    assert len(binary.json()["vector"]) == 1024
    azure_emu.register_asset("https://assets.example/shoe.png", image)
    by_url = _vectorize(
        azure_emu, "vectorizeImage", json={"url": "https://assets.example/shoe.png"}
    )
    assert by_url.json()["vector"] == binary.json()["vector"]
    text = _vectorize(azure_emu, "vectorizeText", json={"text": "a red shoe"})
    assert len(text.json()["vector"]) == 1024
    legacy = _vectorize(
        azure_emu,
        "vectorizeText",
        json={"text": "a red shoe"},
        query={"api-version": "2024-02-01", "model-version": "2022-04-11"},
    )
    assert legacy.json()["modelVersion"] == "2022-04-11"
    assert legacy.json()["vector"] != text.json()["vector"]


def _azure_inner(response: httpx.Response) -> tuple[int, str, str]:
    error = response.json()["error"]
    return response.status_code, error["code"], error["innererror"]["code"]


def test_azure_text_must_be_1_to_70_words(azure_emu: AzureVisionEmulator) -> None:
    assert _vectorize(azure_emu, "vectorizeText", json={"text": "word " * 70}).status_code == 200
    too_long = _vectorize(azure_emu, "vectorizeText", json={"text": "word " * 71})
    assert _azure_inner(too_long) == (400, "InvalidRequest", "InvalidTextLength")
    assert "between 1 and 70 words" in too_long.json()["error"]["message"]
    empty = _vectorize(azure_emu, "vectorizeText", json={"text": "   "})
    assert _azure_inner(empty) == (400, "InvalidRequest", "InvalidTextLength")


@pytest.mark.parametrize(
    ("data", "inner", "message"),
    [
        (image_bytes(size=(10, 10)), "InvalidImageDimension", "greater than 10x10"),
        (image_bytes(size=(16_000, 11)), "InvalidImageDimension", "less than 16,000x16,000"),
        (padded(image_bytes(), 20 * MB), "InvalidImageSize", "less than 20 MB"),
        (b"%PDF-1.7 not an image", "InvalidImageFormat", "not a valid image"),
    ],
)
def test_azure_rejects_images_outside_the_limits(
    azure_emu: AzureVisionEmulator, data: bytes, inner: str, message: str
) -> None:
    response = _azure_image(azure_emu, data)
    assert _azure_inner(response) == (400, "InvalidRequest", inner)
    assert message in response.json()["error"]["message"]


def test_azure_accepts_the_smallest_and_largest_allowed_images(
    azure_emu: AzureVisionEmulator,
) -> None:
    assert _azure_image(azure_emu, image_bytes(size=(11, 11))).status_code == 200
    assert _azure_image(azure_emu, image_bytes(size=(15_999, 11))).status_code == 200
    assert _azure_image(azure_emu, padded(image_bytes(), 20 * MB - 1)).status_code == 200


def test_azure_api_version_and_model_version(azure_emu: AzureVisionEmulator) -> None:
    missing = _azure_image(azure_emu, image_bytes(), query={})
    assert _azure_inner(missing) == (400, "InvalidRequest", "MissingApiVersion")
    bad_api = _azure_image(azure_emu, image_bytes(), query={"api-version": "2021-01-01"})
    assert _azure_inner(bad_api) == (400, "InvalidRequest", "InvalidApiVersion")
    bad_model = _azure_image(
        azure_emu, image_bytes(), query={"api-version": "2024-02-01", "model-version": "1999"}
    )
    assert _azure_inner(bad_model) == (400, "InvalidRequest", "InvalidModelVersion")


def test_azure_image_url_that_cannot_be_downloaded(azure_emu: AzureVisionEmulator) -> None:
    response = _vectorize(
        azure_emu, "vectorizeImage", json={"url": "https://assets.example/no.png"}
    )
    assert _azure_inner(response) == (400, "InvalidRequest", "InvalidImageUrl")


def test_azure_auth_failures(azure_emu: AzureVisionEmulator) -> None:
    missing = _azure_image(azure_emu, image_bytes(), key=None)
    assert missing.status_code == 401
    assert "missing subscription key" in missing.json()["error"]["message"]
    wrong = _azure_image(azure_emu, image_bytes(), key="nope")
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (401, "401")
    assert "invalid subscription key" in wrong.json()["error"]["message"]


def test_azure_rate_limit_shape(azure_emu: AzureVisionEmulator) -> None:
    azure_emu.fail_next(1, status=429, retry_after=2)
    response = _vectorize(azure_emu, "vectorizeText", json={"text": "hello"})
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    assert response.json()["error"] == {
        "code": "429",
        "message": "Rate limit is exceeded. Try again in 2 seconds.",
    }
    azure_emu.fail_next(1, status=500)
    failed = _vectorize(azure_emu, "vectorizeText", json={"text": "hello"})
    assert (failed.status_code, failed.json()["error"]["code"]) == (500, "500")


# -- DashScope (dashscope.Client, tongyi-embedding-vision-*) -------------------------------


def _ds_embed(client: dashscope.Client, contents: list[dict[str, Any]], **kwargs: Any) -> Any:
    model = kwargs.pop("model", "tongyi-embedding-vision-plus")
    return client.multimodal.embeddings.create(model=model, input=contents, **kwargs)


def test_dashscope_text_and_image_via_sdk(
    ds: dashscope.Client, dashscope_emu: DashScopeEmulator
) -> None:
    red = image_bytes(color=(255, 0, 0))
    response = _ds_embed(ds, [{"text": "red swatch"}, {"image": data_uri(red)}])
    assert [(e.index, e.type, len(e.embedding)) for e in response.embeddings] == [
        (0, "text", 1152),
        (1, "image", 1152),
    ]
    assert norm(response.embeddings[1].embedding) == pytest.approx(1.0, abs=1e-5)
    usage = response.usage.model_dump()
    # A 64x48 image is 3x2 tiles of 28x28: 6 tokens.
    assert usage["input_tokens_details"] == {"text_tokens": 2, "image_tokens": 6}
    assert usage["input_tokens"] == usage["total_tokens"] == 8
    assert dashscope_emu.requests[0].body["input"]["contents"][0] == {"text": "red swatch"}
    assert dashscope_emu.requests[0].headers["authorization"] == "[REDACTED]"


def _ds_rest(emu: DashScopeEmulator, contents: list[dict[str, Any]]) -> httpx.Response:
    return httpx.post(
        emu.base_url + "/services/embeddings/multimodal-embedding/multimodal-embedding",
        json={"model": "tongyi-embedding-vision-plus", "input": {"contents": contents}},
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=10,
    )


def test_dashscope_multi_images_get_one_vector_via_rest(dashscope_emu: DashScopeEmulator) -> None:
    # dashscope 2.0's client refuses multi_images items client-side, so this goes over REST.
    red, blue = image_bytes(color=(255, 0, 0)), image_bytes(color=(0, 0, 255), fmt="JPEG")
    dashscope_emu.register_asset("https://oss.example/blue.jpg", blue)
    contents = [
        {"image": data_uri(red)},
        {"multi_images": [data_uri(red), "https://oss.example/blue.jpg"]},
    ]
    response = _ds_rest(dashscope_emu, contents)
    assert response.status_code == 200
    single, multi = response.json()["output"]["embeddings"]
    assert (single["type"], multi["type"], multi["index"]) == ("image", "multi_images", 1)
    assert single["embedding"] != multi["embedding"]
    assert response.json()["usage"]["input_tokens_details"]["image_tokens"] == 18
    too_many = _ds_rest(dashscope_emu, [{"multi_images": [data_uri(red)] * 9}])
    assert too_many.status_code == 400
    assert too_many.json()["code"] == "InvalidParameter"
    assert "at most 8 are allowed" in too_many.json()["message"]
    assert set(too_many.json()) == {"code", "message", "request_id"}
    dashscope_emu.fail_next(1, status=500)
    failed = _ds_rest(dashscope_emu, [{"text": "x"}])
    assert (failed.status_code, failed.json()["code"]) == (500, "InternalError")


def test_dashscope_dimensions_per_model(ds: dashscope.Client) -> None:
    flash = _ds_embed(ds, [{"text": "x"}], model="tongyi-embedding-vision-flash")
    assert len(flash.embeddings[0].embedding) == 768
    small = _ds_embed(ds, [{"text": "x"}], dimension=64)
    assert len(small.embeddings[0].embedding) == 64
    with pytest.raises(dashscope.v2.errors.BadRequestError, match=r"dimension must be one of"):
        _ds_embed(ds, [{"text": "x"}], dimension=768)
    with pytest.raises(dashscope.v2.errors.BadRequestError, match=r"output_type must be 'dense'"):
        _ds_embed(ds, [{"text": "x"}], output_type="sparse")


@pytest.mark.parametrize(
    ("contents", "message"),
    [
        ([{"image": data_uri(image_bytes())}] * 9, "at most 8 images per request"),
        (
            [{"image": data_uri(padded(image_bytes(), 3 * MB + 1))}],
            "each image must be at most 3 MB",
        ),
        ([{"image": data_uri(image_bytes(fmt="WEBP"), "image/webp")}], "use JPEG, PNG or BMP"),
        ([{"text": "word " * 1025}], "Range of input length should be [1, 1024]"),
        ([{"video": "data:video/mp4;base64,AAAA"}], "must be a public URL"),
        ([{"text": "x", "image": data_uri(image_bytes())}], "exactly one of text, image, video"),
        ([{"image": "https://oss.example/missing.png"}], "download the image failed"),
        ([{"video": "https://oss.example/big.mp4"}], "each video must be at most 10 MB"),
    ],
)
def test_dashscope_rejects_what_the_api_rejects(
    ds: dashscope.Client,
    dashscope_emu: DashScopeEmulator,
    contents: list[dict[str, Any]],
    message: str,
) -> None:
    dashscope_emu.register_asset("https://oss.example/big.mp4", b"\0" * (10 * MB + 1))
    with pytest.raises(dashscope.v2.errors.BadRequestError) as caught:
        _ds_embed(ds, contents)
    assert caught.value.code == "InvalidParameter"
    assert caught.value.status_code == 400
    assert message in str(caught.value)


def test_dashscope_accepts_bmp_video_urls_and_eight_images(
    ds: dashscope.Client, dashscope_emu: DashScopeEmulator
) -> None:
    dashscope_emu.register_asset("https://oss.example/clip.mp4", b"fake mp4 bytes")
    contents = [{"image": data_uri(image_bytes(fmt="BMP"), "image/bmp")}] * 8
    contents.append({"video": "https://oss.example/clip.mp4"})
    response = _ds_embed(ds, contents)
    assert [e.type for e in response.embeddings] == ["image"] * 8 + ["video"]


def test_dashscope_unknown_model_and_auth(
    dashscope_emu: DashScopeEmulator, ds: dashscope.Client
) -> None:
    with pytest.raises(dashscope.v2.errors.BadRequestError, match="Model not exist"):
        _ds_embed(ds, [{"text": "x"}], model="tongyi-embedding-vision-max")
    wrong = dashscope.Client(api_key="sk-wrong", base_url=dashscope_emu.base_url, max_retries=0)
    with pytest.raises(dashscope.v2.errors.AuthenticationError) as caught:
        _ds_embed(wrong, [{"text": "x"}])
    assert caught.value.code == "InvalidApiKey"
    wrong.close()


def test_dashscope_sdk_retries_429_and_dropped_connections(
    dashscope_emu: DashScopeEmulator,
) -> None:
    client = dashscope.Client(api_key=KEY, base_url=dashscope_emu.base_url)  # default 2 retries
    dashscope_emu.fail_next(1, status=429, retry_after=1)
    dashscope_emu.drop_next(1)
    response = _ds_embed(client, [{"text": "x"}])
    client.close()
    assert len(response.embeddings) == 1
    assert [(r.fault, r.status) for r in dashscope_emu.requests] == [
        ("fail", 429),
        ("drop", None),
        (None, 200),
    ]
    assert dashscope_emu.requests[1].received_at - dashscope_emu.requests[0].received_at >= 0.95


def test_dashscope_throttling_body_and_faults_without_retries(
    ds: dashscope.Client, dashscope_emu: DashScopeEmulator
) -> None:
    dashscope_emu.rate_limit(1)
    _ds_embed(ds, [{"text": "x"}])
    with pytest.raises(dashscope.v2.errors.RateLimitError) as caught:
        _ds_embed(ds, [{"text": "x"}])
    assert caught.value.code == "Throttling.RateQuota"
    dashscope_emu.rate_limit(None)
    dashscope_emu.malformed_next(1)
    with pytest.raises(ValueError, match=r"Expecting|Unterminated|delimiter"):
        _ds_embed(ds, [{"text": "x"}])
    dashscope_emu.truncated_next(1)
    with pytest.raises(dashscope.v2.errors.APIConnectionError):
        _ds_embed(ds, [{"text": "x"}])
    dashscope_emu.delay_next(1, seconds=2)
    with pytest.raises(dashscope.v2.errors.APITimeoutError):
        _ds_embed(ds, [{"text": "x"}], timeout=0.3)
