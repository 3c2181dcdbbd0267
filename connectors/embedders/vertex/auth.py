"""OAuth access tokens for Vertex AI: a given token, a credentials file, or ADC.

``google-auth`` does the work (service accounts, user credentials, workload identity,
metadata server); tokens are refreshed before they expire and once more when Vertex answers
401, in case a token was revoked early.
"""

from __future__ import annotations

import threading
from typing import Any

from mmingest.connectors.extras import needs_extra
from mmingest.schemas.config import VertexEmbedderConfig
from mmingest.schemas.errors import AuthenticationFailed, ConfigError, ProviderUnavailable

SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
_HOW = (
    "set embedder.credentials_file, GOOGLE_APPLICATION_CREDENTIALS, or run "
    "`gcloud auth application-default login`"
)


class GoogleToken:
    """Bearer tokens for Vertex requests, safe to share between threads."""

    def __init__(self, config: VertexEmbedderConfig) -> None:
        self._lock = threading.Lock()
        self._static: str | None = None
        self._credentials: Any = None
        self.project = config.project
        if config.access_token is not None:
            self._static = config.access_token.get_secret_value().strip()
            if not self._static:
                raise ConfigError("embedder.access_token is empty")
            return
        with needs_extra("the vertex embedder"):
            import google.auth
            import google.auth.exceptions
        self._exceptions = google.auth.exceptions
        try:
            if config.credentials_file is not None:
                credentials, project = google.auth.load_credentials_from_file(  # type: ignore[no-untyped-call]
                    str(config.credentials_file), scopes=SCOPES
                )
            else:
                credentials, project = google.auth.default(scopes=SCOPES)
        except google.auth.exceptions.DefaultCredentialsError as error:
            raise ConfigError(f"no usable Google credentials ({error}): {_HOW}") from None
        self._credentials = credentials
        self.project = config.project or project

    @property
    def quota_project(self) -> str | None:
        """The project user credentials bill quota to (sent as x-goog-user-project)."""
        value = getattr(self._credentials, "quota_project_id", None)
        return str(value) if value else None

    @property
    def refreshable(self) -> bool:
        """Whether a rejected token can be replaced by a fresh one."""
        return self._credentials is not None

    def token(self, *, force: bool = False) -> str:
        """A valid access token (refreshed first when expired, or when ``force``)."""
        if self._static is not None:
            return self._static
        with self._lock:
            if force or not self._credentials.valid:
                self._refresh()
            return str(self._credentials.token)

    def secrets(self) -> list[str]:
        """Token values to scrub from anything shown."""
        if self._static is not None:
            return [self._static]
        token = getattr(self._credentials, "token", None)
        return [token] if token else []

    def _refresh(self) -> None:
        import google.auth.transport.requests

        try:
            self._credentials.refresh(google.auth.transport.requests.Request())
        except self._exceptions.TransportError as error:
            raise ProviderUnavailable(
                f"vertex: refreshing the Google token failed: {error}"
            ) from None
        except self._exceptions.RefreshError as error:
            raise AuthenticationFailed(
                f"vertex: Google refused to refresh the credentials ({error}): {_HOW}"
            ) from None
