"""Cohere Rerank (``POST /v2/rerank``) through the ``cohere`` SDK's ClientV2."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from pydantic import SecretStr

from mmingest.connectors.embedders.cohere.embedder import translate_api_error
from mmingest.connectors.embedders.remote import api_key
from mmingest.connectors.embedders.remote.errors import unavailable
from mmingest.connectors.extras import needs_extra
from mmingest.connectors.rerankers.base import document_of
from mmingest.schemas.query import Hit

_ENV = ("CO_API_KEY",)
MAX_DOCUMENTS = 1000
"""Cohere recommends at most 1,000 documents per rerank request."""


class CohereReranker:
    """Reranks hits by their caption text with a Cohere rerank model (``rerank-v3.5``).

    The API key comes from ``api_key`` or ``CO_API_KEY``; it never appears in errors.
    Failures raise the same errors as the Cohere embedder: ``RateLimited`` (with the server's
    Retry-After), ``ProviderUnavailable``, ``AuthenticationFailed``.
    """

    provider = "cohere"

    def __init__(
        self,
        *,
        model: str = "rerank-v3.5",
        api_key: SecretStr | str | None = None,
        base_url: str | None = None,
        timeout_s: float = 60.0,
        max_chars: int = 4096,
    ) -> None:
        with needs_extra("Cohere rerank", "cohere"):
            import cohere
            import httpx
            from cohere.core.api_error import ApiError
        secret = SecretStr(api_key) if isinstance(api_key, str) else api_key
        self._key = _key(secret)
        self._api_error: type[Exception] = ApiError
        self._httpx: Any = httpx
        self.model = model
        self.max_chars = max_chars
        options: dict[str, Any] = {"timeout": timeout_s, "max_retries": 0}
        if base_url:
            options["base_url"] = base_url
        self._client = cohere.ClientV2(
            api_key=self._key, log_warning_experimental_features=False, **options
        )

    def __call__(self, query: str, hits: Sequence[Hit]) -> list[Hit]:
        """``hits`` reordered by Cohere's relevance score (the new ``score``)."""
        if not hits:
            return []
        candidates = list(hits)[:MAX_DOCUMENTS]
        documents = [document_of(hit, self.max_chars) for hit in candidates]
        try:
            response = self._client.rerank(
                model=self.model, query=query, documents=documents, top_n=len(documents)
            )
        except self._api_error as error:
            raise translate_api_error(error, self._key) from None
        except self._httpx.TimeoutException as error:
            raise unavailable(self.provider, "timed out", error, [self._key]) from None
        except self._httpx.HTTPError as error:
            raise unavailable(self.provider, "connection failed", error, [self._key]) from None
        return [
            Hit(
                id=candidates[result.index].id,
                score=float(result.relevance_score),
                payload=candidates[result.index].payload,
            )
            for result in response.results
        ]

    def close(self) -> None:
        """Close the SDK's HTTP connection pool."""
        self._client._client_wrapper.httpx_client.httpx_client.close()


def _key(secret: SecretStr | None) -> str:
    if secret is None and os.environ.get("CO_API_KEY"):
        secret = SecretStr(os.environ["CO_API_KEY"])
    return api_key(secret, "cohere", _ENV)
