"""``mmingest serve``: the search page and HTTP API over the configured collection."""

from __future__ import annotations

import ipaddress
from typing import Annotated

import typer

from mmingest.connectors.extras import needs_extra
from mmingest.flows.app import app, err, load_settings
from mmingest.flows.runtime import open_runtime


@app.command()
def serve(
    host: Annotated[
        str | None,
        typer.Option(help="Interface to bind (default web.host: 127.0.0.1, this machine only)."),
    ] = None,
    port: Annotated[
        int | None, typer.Option(min=0, max=65535, help="TCP port (default web.port: 8000).")
    ] = None,
    collection: Annotated[str | None, typer.Option("--collection", "-c")] = None,
    tenant: Annotated[str | None, typer.Option(help="Serve only this tenant's points.")] = None,
) -> None:
    """Serve a search page (text, image upload, more like this, filters) and /api/search
    (JSON, OpenAPI at /api/openapi.json) over a collection; read-only."""
    with needs_extra("mmingest serve"):
        import uvicorn

        from mmingest.flows.web.app import create_app
    from mmingest.flows.web.service import SearchService
    from mmingest.pipelines.local_roots import display_source_config
    from mmingest.pipelines.query import Retriever

    given = {key: value for key, value in {"host": host, "port": port}.items() if value is not None}
    settings = load_settings(collection=collection, tenant=tenant, web=given or None)
    web = settings.web
    with open_runtime(settings) as runtime:  # the model is loaded once, here
        retriever = Retriever(
            runtime.store,
            runtime.embedder,
            collection=settings.collection,
            tenant=settings.tenant,
            source_config=display_source_config(settings),
            max_image_bytes=settings.query.max_image_bytes,
        )
        service = SearchService(retriever, web)
        address = f"http://{_url_host(web.host)}:{web.port}/"
        scope = f"collection {settings.collection!r}" + (
            f", tenant {settings.tenant!r}" if settings.tenant else ""
        )
        key = "API key required" if web.api_key is not None else "no API key"
        err.print(f"mmingest: serving {scope} at {address} ({key})", markup=False)
        if not retriever.source_config.allowed_local_roots:
            err.print(
                "mmingest: note: no local folder was ingested into this collection from this "
                "state directory and source.allowed_local_roots is empty: pictures in local "
                "folders are not shown (MMINGEST_SOURCE__ALLOWED_LOCAL_ROOTS lists more)",
                markup=False,
            )
        if web.api_key is None and not _loopback(web.host):
            err.print(
                f"mmingest: warning: {web.host} is reachable from other machines and no "
                "web.api_key is set: anyone who can reach it can search this collection",
                markup=False,
            )
        uvicorn.run(
            create_app(service),
            host=web.host,
            port=web.port,
            log_level="warning",
            access_log=False,
            server_header=False,
        )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
