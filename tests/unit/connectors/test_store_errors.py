"""SDK exceptions become mmingest errors at the store boundary, with retry-ability right."""

import httpx
import pytest
from pymilvus.exceptions import ConnectionConfigException, MilvusException
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse
from weaviate.exceptions import UnexpectedStatusCodeError, WeaviateQueryError

from mmingest.connectors.stores.milvus.errors import translate as milvus
from mmingest.connectors.stores.qdrant.errors import translate as qdrant
from mmingest.connectors.stores.weaviate.errors import translate as weaviate
from mmingest.schemas.errors import (
    AuthenticationFailed,
    CollectionNotFound,
    InvalidInput,
    RateLimited,
    StoreLocked,
    StoreUnavailable,
)


def qdrant_status(status):
    return UnexpectedResponse(status, "reason", b'{"status":{"error":"x"}}', httpx.Headers())


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (404, CollectionNotFound),
        (401, AuthenticationFailed),
        (403, AuthenticationFailed),
        (429, RateLimited),
        (400, InvalidInput),
        (422, InvalidInput),
        (409, StoreUnavailable),
        (500, StoreUnavailable),
        (503, StoreUnavailable),
    ],
)
def test_qdrant_rest_statuses(status, kind):
    error = qdrant(qdrant_status(status), "upsert", "images", "http://qdrant:6333")
    assert type(error) is kind
    assert "images" in error.message or "http://qdrant:6333" in error.message


class FakeRpcError(Exception):
    def __init__(self, code):
        super().__init__(code)
        self._code = code

    def code(self):
        return type("Code", (), {"name": self._code})()

    def details(self):
        return f"{self._code} details"


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("UNAVAILABLE", StoreUnavailable),
        ("DEADLINE_EXCEEDED", StoreUnavailable),
        ("NOT_FOUND", CollectionNotFound),
        ("UNAUTHENTICATED", AuthenticationFailed),
        ("INVALID_ARGUMENT", InvalidInput),
        ("RESOURCE_EXHAUSTED", RateLimited),
    ],
)
def test_qdrant_grpc_codes(code, kind):
    assert type(qdrant(FakeRpcError(code), "query", "images", "qdrant:6334")) is kind


def test_qdrant_transport_and_local_mode_errors():
    down = ResponseHandlingException(httpx.ConnectError("refused"))
    assert isinstance(qdrant(down, "count", "images", "http://q"), StoreUnavailable)
    missing = qdrant(ValueError("Collection images not found"), "count", "images", ":memory:")
    assert isinstance(missing, CollectionNotFound)
    dims = qdrant(ValueError("Wrong input: Vector dimension error"), "upsert", "images", "x")
    assert isinstance(dims, InvalidInput)
    locked = qdrant(RuntimeError("Storage folder /d is already accessed"), "open", "", "/d")
    assert isinstance(locked, StoreLocked)


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (MilvusException(100, "collection 'images' does not exist"), CollectionNotFound),
        (MilvusException(8, "rate limit exceeded"), RateLimited),
        (MilvusException(6, "vector field 'image' expected dim 4, got 3"), InvalidInput),
        (MilvusException(1, "fail connecting to server", retriable=True), StoreUnavailable),
        (MilvusException(1800, "user hasn't authenticated"), AuthenticationFailed),
        (MilvusException(65535, "something odd"), StoreUnavailable),
        (ConnectionConfigException(message="Open local milvus failed"), StoreLocked),
    ],
)
def test_milvus_errors(error, kind):
    assert type(milvus(error, "upsert", "images", "./milvus.db")) is kind


def weaviate_status(status):
    response = httpx.Response(status, json={"error": [{"message": "x"}]})
    response.request = httpx.Request("GET", "http://weaviate:8080/v1/schema")
    return UnexpectedStatusCodeError("call", response)


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (weaviate_status(401), AuthenticationFailed),
        (weaviate_status(404), CollectionNotFound),
        (weaviate_status(429), RateLimited),
        (weaviate_status(422), InvalidInput),
        (weaviate_status(503), StoreUnavailable),
        (WeaviateQueryError("could not find class Images in schema", "GRPC"), CollectionNotFound),
        (WeaviateQueryError("context deadline exceeded", "GRPC"), StoreUnavailable),
        (WeaviateQueryError("vector lengths don't match: 4 vs 8", "GRPC"), InvalidInput),
    ],
)
def test_weaviate_errors(error, kind):
    assert type(weaviate(error, "query", "images", "http://weaviate:8080")) is kind


def test_messages_say_what_where_and_what_to_do():
    error = qdrant(qdrant_status(401), "upsert", "images", "https://q.example")
    assert "https://q.example" in error.message
    assert "MMINGEST_STORE__API_KEY" in error.message
    error = milvus(MilvusException(100, "collection not found"), "count", "images", "./m.db")
    assert "'images'" in error.message and "MMINGEST_COLLECTION" in error.message
