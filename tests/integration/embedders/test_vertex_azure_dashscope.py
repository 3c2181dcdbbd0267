"""Vertex, Azure AI Vision and DashScope specifics: REST shapes, auth, limits, dimensions."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator

import google.auth
import google.auth.credentials
import google.auth.exceptions
import numpy as np
import pytest
from PIL import Image

from mmingest.connectors.embedders.azure_vision import AzureVisionEmbedder
from mmingest.connectors.embedders.dashscope import DashScopeEmbedder
from mmingest.connectors.embedders.vertex import VertexEmbedder
from mmingest.schemas.config import (
    AzureVisionEmbedderConfig,
    DashScopeEmbedderConfig,
    VertexEmbedderConfig,
)
from mmingest.schemas.embedding import InputKind
from mmingest.schemas.errors import AuthenticationFailed, CapabilityMissing, ConfigError
from tests.emulators.providers import AzureVisionEmulator, DashScopeEmulator, VertexEmulator
from tests.integration.embedders.conftest import KEY
from tests.support.providers import picture

pytestmark = pytest.mark.timeout(60)
MB = 1024 * 1024


@pytest.fixture
def vertex_emu() -> Iterator[VertexEmulator]:
    with VertexEmulator(api_key=KEY) as emulator:
        yield emulator


@pytest.fixture
def azure_emu() -> Iterator[AzureVisionEmulator]:
    with AzureVisionEmulator(api_key=KEY) as emulator:
        yield emulator


@pytest.fixture
def dashscope_emu() -> Iterator[DashScopeEmulator]:
    with DashScopeEmulator(api_key=KEY) as emulator:
        yield emulator


def vertex(emulator: VertexEmulator, **options) -> VertexEmbedder:
    config = {"access_token": KEY, "endpoint": emulator.url, "project": "test-project"} | options
    return VertexEmbedder(VertexEmbedderConfig(**config))


# -- Vertex --------------------------------------------------------------------------------


def test_vertex_predict_request_shape(vertex_emu):
    embedder = vertex(vertex_emu, dimension=256)
    assert embedder.info.limits.max_batch == 1
    embedder.embed_images([picture(1)])
    embedder.embed_texts(["a red shoe"], kind=InputKind.QUERY)
    image, text = vertex_emu.requests
    assert image.path == vertex_emu.predict_path("test-project", "us-central1")
    assert image.body["parameters"] == {"dimension": 256}
    sent = image.body["instances"][0]["image"]
    assert sent["mimeType"] == "image/jpeg"
    assert Image.open(io.BytesIO(base64.b64decode(sent["bytesBase64Encoded"]))).size == (64, 48)
    assert text.body["instances"] == [{"text": "a red shoe"}]


def test_vertex_texts_are_cut_below_1024_characters(vertex_emu):
    embedder = vertex(vertex_emu)
    embedder.embed_texts(["lorem ipsum " * 200])
    sent = vertex_emu.requests[0].body["instances"][0]["text"]
    assert len(sent) < 1024
    assert sent.endswith(("ipsum", "lorem"))  # cut at a word boundary
    assert vertex_emu.counters.errors_sent == 0


def test_vertex_video_segments_are_1408_d_only(vertex_emu):
    vertex_emu.register_asset("gs://bucket/clip.mp4", b"fake mp4 bytes")
    segments = vertex(vertex_emu).embed_video("gs://bucket/clip.mp4", end_s=40, interval_s=16)
    assert [(s.start_s, s.end_s) for s in segments] == [(0, 16), (16, 32), (32, 40)]
    assert all(s.vector.shape == (1408,) for s in segments)
    config = vertex_emu.requests[0].body["instances"][0]["video"]["videoSegmentConfig"]
    assert config == {"startOffsetSec": 0, "endOffsetSec": 40, "intervalSec": 16}
    with pytest.raises(CapabilityMissing, match="1408-d"):
        vertex(vertex_emu, dimension=512).embed_video("gs://bucket/clip.mp4")


class RotatingCredentials(google.auth.credentials.Credentials):
    """ADC stand-in: starts with a stale token, refreshes to the ones given, in order."""

    def __init__(self, stale: str, fresh: list[str]) -> None:
        super().__init__()
        self.token = stale
        self.fresh = fresh
        self.refreshes = 0

    @property
    def valid(self) -> bool:
        return self.token is not None

    def refresh(self, request) -> None:
        self.refreshes += 1
        self.token = self.fresh.pop(0)


def test_vertex_uses_adc_and_refreshes_a_rejected_token_once(vertex_emu, monkeypatch):
    credentials = RotatingCredentials("revoked-token", [KEY, "revoked-again"])
    monkeypatch.setattr(google.auth, "default", lambda scopes: (credentials, "adc-project"))
    embedder = VertexEmbedder(VertexEmbedderConfig(endpoint=vertex_emu.url))
    assert embedder.embed_texts(["hello"]).shape == (1, 1408)
    assert credentials.refreshes == 1
    assert [r.status for r in vertex_emu.requests] == [401, 200]
    assert "/projects/adc-project/" in vertex_emu.requests[-1].path
    vertex_emu.api_key = "rotated-server-side"
    with pytest.raises(AuthenticationFailed, match="credentials were rejected"):
        embedder.embed_texts(["again"])
    assert credentials.refreshes == 2  # one refresh per rejection, then it stops


def test_vertex_without_credentials_or_project_is_a_config_error(monkeypatch):
    def no_adc(scopes):
        raise google.auth.exceptions.DefaultCredentialsError("no ADC here")

    monkeypatch.setattr(google.auth, "default", no_adc)
    with pytest.raises(ConfigError, match="application-default login"):
        VertexEmbedder(VertexEmbedderConfig(project="p"))
    with pytest.raises(ConfigError, match="GOOGLE_CLOUD_PROJECT"):
        VertexEmbedder(VertexEmbedderConfig(access_token="token"))
    with pytest.raises(ConfigError, match="128, 256, 512, 1408"):
        VertexEmbedder(VertexEmbedderConfig(access_token="t", project="p", dimension=1024))


# -- Azure AI Vision -----------------------------------------------------------------------


def azure(emulator: AzureVisionEmulator, **options) -> AzureVisionEmbedder:
    config = {"api_key": KEY, "endpoint": emulator.url} | options
    return AzureVisionEmbedder(AzureVisionEmbedderConfig(**config))


def test_azure_vectorize_requests(azure_emu):
    embedder = azure(azure_emu)
    assert (embedder.info.model, embedder.info.dimension) == ("2023-04-15", 1024)
    embedder.embed_images([picture(1)])
    embedder.embed_texts(["a red shoe"])
    image, text = azure_emu.requests
    assert image.path == "/computervision/retrieval:vectorizeImage"
    assert image.query == {"api-version": "2024-02-01", "model-version": "2023-04-15"}
    assert image.headers["content-type"] == "application/octet-stream"
    assert image.headers["ocp-apim-subscription-key"] == "[REDACTED]"
    assert text.path == "/computervision/retrieval:vectorizeText"
    assert text.body == {"text": "a red shoe"}


def test_azure_inputs_are_fitted_to_its_limits(azure_emu):
    embedder = azure(azure_emu)
    embedder.embed_texts([" ".join(f"word{i}" for i in range(100))])
    assert len(azure_emu.requests[0].body["text"].split()) == 70
    # 6 px is under Azure's minimum side and 16,500 over its maximum: the emulator decodes
    # each upload and would answer 400 InvalidImageDimension had they been sent as they are.
    embedder.embed_images([picture(2, size=(6, 40)), picture(3, size=(16_500, 12))])
    assert [r.status for r in azure_emu.requests] == [200, 200, 200]
    assert azure_emu.counters.errors_sent == 0


def test_azure_model_versions_are_distinct_spaces(azure_emu):
    new = azure(azure_emu).embed_texts(["a red shoe"])
    legacy = azure(azure_emu, model_version="2022-04-11")
    assert legacy.info.model == "2022-04-11"
    assert not np.allclose(new, legacy.embed_texts(["a red shoe"]))
    with pytest.raises(ConfigError, match="VISION_ENDPOINT"):
        AzureVisionEmbedder(AzureVisionEmbedderConfig(api_key=KEY))


# -- DashScope -----------------------------------------------------------------------------


def dashscope(emulator: DashScopeEmulator, **options) -> DashScopeEmbedder:
    config = {"api_key": KEY, "base_url": emulator.base_url} | options
    return DashScopeEmbedder(DashScopeEmbedderConfig(**config))


def test_dashscope_models_and_dimensions(dashscope_emu):
    assert dashscope(dashscope_emu).info.dimension == 1152
    flash = dashscope(dashscope_emu, model="tongyi-embedding-vision-flash")
    assert flash.embed_texts(["x"]).shape == (1, 768)
    small = dashscope(dashscope_emu, dimension=256)
    assert small.embed_images([picture(1)]).shape == (1, 256)
    body = dashscope_emu.requests[-1].body
    assert body["parameters"]["dimension"] == 256
    assert body["input"]["contents"][0]["image"].startswith("data:image/jpeg;base64,")
    with pytest.raises(ConfigError, match="64, 128, 256, 512, 768, not 1152"):
        dashscope(dashscope_emu, model="tongyi-embedding-vision-flash", dimension=1152)


def test_dashscope_requests_carry_at_most_8_images(dashscope_emu):
    embedder = dashscope(dashscope_emu, batch_size=32)
    assert embedder.embed_images([picture(i, size=(30, 30)) for i in range(20)]).shape[0] == 20
    counts = [len(r.body["input"]["contents"]) for r in dashscope_emu.requests]
    assert counts == [8, 8, 4]


def test_dashscope_images_over_3_mb_are_re_encoded_and_long_texts_cut(dashscope_emu):
    noise = picture(9, size=(2200, 2200))  # noise: about 4 MB as a JPEG at quality 90
    embedder = dashscope(dashscope_emu)
    embedder.embed_images([noise])
    embedder.embed_texts(["word " * 600])
    image, text = (r.body["input"]["contents"][0] for r in dashscope_emu.requests)
    sent = base64.b64decode(image["image"].split(",", 1)[1])
    assert len(sent) <= 3 * MB
    assert Image.open(io.BytesIO(sent)).size == (2200, 2200)  # re-encoded, not shrunk
    assert len(text["text"]) <= 1024
    assert dashscope_emu.counters.errors_sent == 0
