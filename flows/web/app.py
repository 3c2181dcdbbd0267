"""The ASGI application of ``mmingest serve``: the search page, ``/api`` and its OpenAPI schema.

Read-only by construction: the only routes are the page, its two static files, health, info,
search and the pictures of search results. Every refusal is JSON (see
:class:`~mmingest.flows.web.models.ErrorResponse`).
"""

from __future__ import annotations

import hmac
import logging
from importlib import resources
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from mmingest.flows.web.errors import ApiError
from mmingest.flows.web.guard import RequestGuard
from mmingest.flows.web.models import (
    ErrorResponse,
    HealthResponse,
    InfoResponse,
    SearchRequest,
    SearchResponse,
)
from mmingest.flows.web.service import THUMBNAIL, VIEW, SearchService

logger = logging.getLogger(__name__)
_STATIC = {"app.js": "text/javascript", "style.css": "text/css"}
_REFUSALS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": description}
    for status, description in {
        401: "Missing or wrong API key.",
        403: "Another tenant, or a picture the reference policy refuses.",
        404: "A point no search of this server returned, or one deleted since.",
        413: "Request or uploaded image too large.",
        422: "Invalid request: k too large, filters too deep, unreadable image, ...",
        503: "The store or the model is unavailable: try again.",
    }.items()
}
_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)
_bearer = HTTPBearer(auto_error=False)
PointId = Annotated[str, Path(max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]


def create_app(service: SearchService) -> FastAPI:
    """The web app over ``service`` (one per process: the model is loaded once, by the
    caller)."""
    config = service.config
    app = FastAPI(
        title="mmingest search",
        summary=f"Hybrid search over the collection {service.collection!r}.",
        version="1",
        docs_url=None,  # the interactive docs load scripts from a CDN: not offline, not here
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    # Enough for the largest allowed image in base64 plus the rest of a search request.
    max_body = 4 * (config.max_upload_bytes // 3 + 1) + 64 * 1024
    app.add_middleware(
        RequestGuard, max_body=max_body, max_json_depth=2 * config.max_filter_depth + 6
    )

    async def authorized(  # async: a sync dependency would cost a thread hop per request
        key: Annotated[str | None, Depends(_api_key_header)],
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> None:
        expected = config.api_key
        if expected is None:
            return
        given = key if key is not None else bearer.credentials if bearer is not None else None
        if given is None:
            raise ApiError(
                401,
                "api_key_required",
                "this server needs an API key: send it in "
                "the X-API-Key header (or Authorization: Bearer)",
            )
        if not hmac.compare_digest(given.encode(), expected.get_secret_value().encode()):
            raise ApiError(401, "bad_api_key", "the API key is not valid for this server")

    guarded = [Depends(authorized)]

    @app.get(
        "/api/health",
        response_model=HealthResponse,
        tags=["deployment"],
        responses={503: {"model": HealthResponse}},
    )
    def health() -> Any:
        """Liveness and readiness: 200 when the store answers, 503 otherwise (no key needed,
        nothing about the collection's content)."""
        healthy = service.healthy()
        body = HealthResponse(
            status="ok" if healthy else "unavailable", collection=service.collection
        )
        return JSONResponse(body.model_dump(), status_code=200 if healthy else 503)

    @app.get(
        "/api/info",
        response_model=InfoResponse,
        dependencies=guarded,
        responses=_REFUSALS,
        tags=["search"],
    )
    def info() -> InfoResponse:
        """The collection's size and product columns, and this server's limits."""
        return service.info()

    @app.post(
        "/api/search",
        response_model=SearchResponse,
        dependencies=guarded,
        responses=_REFUSALS,
        tags=["search"],
    )
    async def search(request: SearchRequest) -> Response:
        """Hybrid, dense or keyword search by text, image and/or 'more like this', with
        filters; hits best first, with URLs of their thumbnails and pictures."""
        # A text or uploaded-image search runs on the event loop: searches and pictures take
        # one backend lock in turn anyway, so a worker thread would add two cross-thread
        # wake-ups (~0.1-0.2 ms a request) and no concurrency; the guard has read the body
        # already, so a slow client never holds the loop. "More like this" may read a
        # picture from object storage first: that waits in a worker thread.
        if request.like is None:
            found = service.search(request)
        else:
            found = await run_in_threadpool(service.search, request)
        # Serialised once, here: FastAPI would validate the model again before encoding it.
        return Response(found.model_dump_json(), media_type="application/json")

    @app.get(
        "/api/points/{point_id}/thumbnail",
        dependencies=guarded,
        responses={**_REFUSALS, 200: {"content": {"image/jpeg": {}, "image/png": {}}}},
        tags=["pictures"],
        response_class=Response,
    )
    def thumbnail(point_id: PointId) -> Response:
        """A search result's picture at thumbnail size (web.thumbnail_px), cached."""
        return _picture(service, point_id, THUMBNAIL)

    @app.get(
        "/api/points/{point_id}/picture",
        dependencies=guarded,
        responses={**_REFUSALS, 200: {"content": {"image/jpeg": {}, "image/png": {}}}},
        tags=["pictures"],
        response_class=Response,
    )
    def picture(point_id: PointId) -> Response:
        """A search result's full picture (at most web.view_px on its longest side): the
        image, the rendered PDF page or the product image."""
        return _picture(service, point_id, VIEW)

    page = _static("index.html")

    @app.get("/", include_in_schema=False)
    def index() -> Response:
        return Response(page, media_type="text/html; charset=utf-8")

    for name, media_type in _STATIC.items():
        _add_static(app, name, media_type)

    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
    return app


def _picture(service: SearchService, point_id: str, variant: str) -> Response:
    picture = service.picture(point_id, variant)
    # Private: a picture may be behind an API key; versioned URLs make long caching safe.
    headers = {"Cache-Control": "private, max-age=86400"}
    return Response(picture.data, media_type=picture.media_type, headers=headers)


def _static(name: str) -> bytes:
    return resources.files("mmingest.flows.web").joinpath("static", name).read_bytes()


def _add_static(app: FastAPI, name: str, media_type: str) -> None:
    body = _static(name)

    def serve() -> Response:
        return Response(
            body, media_type=f"{media_type}; charset=utf-8", headers={"Cache-Control": "no-cache"}
        )

    app.add_api_route(f"/static/{name}", serve, methods=["GET"], include_in_schema=False)


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The JSON body of every refusal."""
    body = {"error": {"code": code, "message": message}}
    return JSONResponse(body, status_code=status, headers=headers)


async def _api_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, ApiError)
    headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
    return error_response(error.status, error.code, error.message, headers)


async def _validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    # Name each problem by its place in the request; never echo the input (an image, a key).
    problems = []
    for item in error.errors():
        location = ".".join(str(part) for part in item.get("loc", ()) if part != "body")
        problems.append(f"{location or 'request'}: {item.get('msg', 'invalid')}")
    return error_response(422, "invalid_request", "invalid request: " + "; ".join(problems[:10]))


async def _unexpected_error(request: Request, error: Exception) -> Response:
    # The traceback goes to the server's log; the client learns nothing about the internals.
    logger.error("unexpected error on %s %s", request.method, request.url.path, exc_info=error)
    return error_response(500, "internal_error", "the server failed on this request; see its log")


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
    return error_response(error.status_code, code, str(error.detail))
