import pytest
from pydantic import ValidationError

from mmingest.connectors.stores import STORES
from mmingest.connectors.stores.weaviate.connect import _endpoint
from mmingest.schemas.config import MilvusStoreConfig, QdrantStoreConfig, WeaviateStoreConfig
from mmingest.schemas.settings import Settings


@pytest.mark.parametrize(
    ("kind", "model"),
    [
        ("qdrant", QdrantStoreConfig),
        ("milvus", MilvusStoreConfig),
        ("weaviate", WeaviateStoreConfig),
    ],
)
def test_store_kind_selects_the_backend_and_its_factory(monkeypatch, kind, model):
    monkeypatch.setenv("MMINGEST_STORE__KIND", kind)
    assert isinstance(Settings().store, model)
    assert kind in STORES


def test_secrets_never_print(monkeypatch):
    monkeypatch.setenv("MMINGEST_STORE__KIND", "weaviate")
    monkeypatch.setenv("MMINGEST_STORE__API_KEY", "s3cret-key")
    monkeypatch.setenv("MMINGEST_STORE__VECTORIZER_API_KEY", "cohere-s3cret")
    settings = Settings()
    assert settings.store.api_key.get_secret_value() == "s3cret-key"
    shown = f"{settings!r} {settings.store} {settings.redacted()}"
    assert "s3cret" not in shown
    milvus = MilvusStoreConfig(uri="http://m:19530", token="root:p4ssw0rd")
    assert "p4ssw0rd" not in f"{milvus!r} {milvus.model_dump(mode='json')}"


def test_milvus_lite_lives_in_the_state_dir_unless_a_uri_is_given(monkeypatch):
    monkeypatch.setenv("MMINGEST_STORE__KIND", "milvus")
    monkeypatch.setenv("MMINGEST_STATE_DIR", "/var/lib/mmingest")
    assert Settings().store.uri == "/var/lib/mmingest/milvus.db"
    monkeypatch.setenv("MMINGEST_STORE__URI", "http://milvus:19530")
    assert Settings().store.uri == "http://milvus:19530"


def test_weaviate_tenant_and_vectorizer_settings_are_checked():
    with pytest.raises(ValidationError, match="shared_tenant"):
        WeaviateStoreConfig(shared_tenant="no spaces")
    with pytest.raises(ValidationError, match="vectorizer_dimension"):
        WeaviateStoreConfig(vectorizer="multi2vec-cohere")
    with pytest.raises(ValidationError):
        WeaviateStoreConfig(vectorizer="text2vec-openai")


def test_weaviate_endpoints():
    assert _endpoint("http://weaviate:8080", 8080) == ("weaviate", 8080, False)
    assert _endpoint("https://x.weaviate.cloud", 8080) == ("x.weaviate.cloud", 443, True)
    assert _endpoint("localhost", 50051) == ("localhost", 50051, False)
