from pathlib import Path

import pytest
from pydantic import ValidationError

from mmingest.schemas.config import ClipEmbedderConfig, QdrantEdgeStoreConfig
from mmingest.schemas.settings import Settings


def test_defaults_are_the_embedded_stack():
    settings = Settings()
    assert isinstance(settings.embedder, ClipEmbedderConfig)
    assert settings.embedder.model == "openai/clip-vit-base-patch32"
    assert isinstance(settings.store, QdrantEdgeStoreConfig)
    assert settings.store.path == Path(".mmingest") / "qdrant-edge"
    assert settings.collection == "mmingest"


def test_nested_environment_variables_without_kind_select_the_default_backend(monkeypatch):
    monkeypatch.setenv("MMINGEST_EMBEDDER__MODEL", "./models/clip")
    monkeypatch.setenv("MMINGEST_EMBEDDER__BATCH_SIZE", "7")
    monkeypatch.setenv("MMINGEST_INGEST__READ_CONCURRENCY", "3")
    settings = Settings()
    assert settings.embedder.model == "./models/clip"
    assert settings.embedder.batch_size == 7
    assert settings.ingest.read_concurrency == 3


def test_store_path_follows_state_dir_unless_set(monkeypatch):
    monkeypatch.setenv("MMINGEST_STATE_DIR", "/var/lib/mmingest")
    assert Settings().store.path == Path("/var/lib/mmingest/qdrant-edge")
    monkeypatch.setenv("MMINGEST_STORE__PATH", "/data/edge")
    assert Settings().store.path == Path("/data/edge")


def test_toml_file_env_file_and_environment_precedence(monkeypatch, tmp_path):
    (tmp_path / "mmingest.toml").write_text(
        'collection = "from-toml"\ntenant = "toml-tenant"\n[embedder]\nbatch_size = 5\n'
    )
    assert Settings().collection == "from-toml"
    assert Settings().embedder.batch_size == 5
    (tmp_path / ".env").write_text("MMINGEST_COLLECTION=from-dotenv\n")
    assert Settings().collection == "from-dotenv"
    assert Settings().tenant == "toml-tenant"
    monkeypatch.setenv("MMINGEST_COLLECTION", "from-env")
    assert Settings().collection == "from-env"
    assert Settings(collection="explicit").collection == "explicit"


def test_config_file_location_can_be_chosen(monkeypatch, tmp_path):
    config = tmp_path / "conf" / "prod.toml"
    config.parent.mkdir()
    config.write_text('collection = "prod"\n')
    monkeypatch.setenv("MMINGEST_CONFIG", str(config))
    assert Settings().collection == "prod"


def test_unknown_backend_kind_is_a_clear_validation_error(monkeypatch):
    monkeypatch.setenv("MMINGEST_STORE__KIND", "oracle")
    with pytest.raises(ValidationError, match=r"'oracle'.*qdrant-edge"):
        Settings()


def test_unknown_backend_option_is_rejected():
    with pytest.raises(ValidationError, match="batchsize"):
        Settings(embedder={"batchsize": 3})


@pytest.mark.parametrize("name", ["", "1abc", "a/b", "../x", "a b", "x" * 64])
def test_collection_names_are_validated(name):
    with pytest.raises(ValidationError, match="invalid collection name"):
        Settings(collection=name)


def test_providers_own_variables_fill_unset_keys(monkeypatch):
    from mmingest.schemas.config import AzureVisionEmbedderConfig, CohereEmbedderConfig

    monkeypatch.setenv("MMINGEST_EMBEDDER__KIND", "cohere")
    monkeypatch.setenv("CO_API_KEY", " from-provider-variable ")
    settings = Settings()
    assert isinstance(settings.embedder, CohereEmbedderConfig)
    assert settings.embedder.api_key.get_secret_value() == "from-provider-variable"
    monkeypatch.setenv("MMINGEST_EMBEDDER__API_KEY", "from-mmingest")
    assert Settings().embedder.api_key.get_secret_value() == "from-mmingest"
    monkeypatch.setenv("MMINGEST_EMBEDDER__KIND", "azure-vision")
    monkeypatch.delenv("MMINGEST_EMBEDDER__API_KEY")
    monkeypatch.setenv("VISION_KEY", "azure-key")
    monkeypatch.setenv("VISION_ENDPOINT", "https://example.cognitiveservices.azure.com")
    azure = Settings().embedder
    assert isinstance(azure, AzureVisionEmbedderConfig)
    assert azure.api_key.get_secret_value() == "azure-key"
    assert azure.endpoint == "https://example.cognitiveservices.azure.com"


def test_provider_settings_validate_and_never_show_keys(monkeypatch):
    monkeypatch.setenv("MMINGEST_EMBEDDER__KIND", "vertex")
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "my-project")
    monkeypatch.setenv("MMINGEST_EMBEDDER__ACCESS_TOKEN", "ya29.secret-token")
    settings = Settings()
    assert settings.embedder.project == "my-project"
    shown = f"{settings.redacted()} {settings!r} {settings.embedder}"
    assert "ya29.secret-token" not in shown
    with pytest.raises(ValidationError, match="tokens_per_minute"):
        Settings(embedder={"kind": "vertex", "tokens_per_minute": 5})
    with pytest.raises(ValidationError, match="concurrency"):
        Settings(embedder={"kind": "cohere", "concurrency": 0})


def test_the_embedding_cache_lives_under_the_state_dir_unless_set(monkeypatch):
    monkeypatch.setenv("MMINGEST_STATE_DIR", "/var/lib/mmingest")
    settings = Settings()
    assert settings.embedding_cache.enabled
    assert settings.embedding_cache.path == Path("/var/lib/mmingest/embedding-cache.sqlite3")
    monkeypatch.setenv("MMINGEST_EMBEDDING_CACHE__ENABLED", "false")
    assert not Settings().embedding_cache.enabled


def test_runtime_exports_live_under_the_state_dir_unless_set(monkeypatch):
    monkeypatch.setenv("MMINGEST_STATE_DIR", "/var/lib/mmingest")
    monkeypatch.setenv("MMINGEST_EMBEDDER__RUNTIME", "openvino")
    monkeypatch.setenv("MMINGEST_EMBEDDER__PRECISION", "int8")
    settings = Settings()
    assert (settings.embedder.runtime, settings.embedder.precision) == ("openvino", "int8")
    assert settings.embedder.export_dir == Path("/var/lib/mmingest/model-exports")
    monkeypatch.setenv("MMINGEST_EMBEDDER__EXPORT_DIR", "/cache/exports")
    assert Settings().embedder.export_dir == Path("/cache/exports")


@pytest.mark.parametrize(
    ("spelled", "meant"), [("float32", "fp32"), ("bfloat16", "bf16"), ("float16", "fp16")]
)
def test_torch_dtype_names_still_select_a_precision(spelled, meant):
    assert ClipEmbedderConfig(precision=spelled).precision == meant


def test_unknown_runtime_or_precision_is_rejected():
    with pytest.raises(ValidationError, match="runtime"):
        ClipEmbedderConfig(runtime="tensorrt")
    with pytest.raises(ValidationError, match="precision"):
        ClipEmbedderConfig(precision="int4")
