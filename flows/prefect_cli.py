"""``mmingest deploy``: register the deployments quietly, with one line when the API is down."""

from __future__ import annotations

import logging
import os
import warnings

import typer

from mmingest.flows.app import EXIT_PARTIAL, err, out
from mmingest.schemas.settings import Settings


def quiet_prefect() -> None:
    """Keep Prefect's advice and deprecation noise out of the command's output; its errors stay."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    for category in (DeprecationWarning, FutureWarning, UserWarning, PendingDeprecationWarning):
        warnings.filterwarnings("ignore", category=category, module=r"prefect(\\..*)?")
    warnings.filterwarnings("ignore", message=r".*(Pydantic|pydantic).*")
    for name in ("prefect", "httpx", "distributed"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _unreachable(error: BaseException) -> str | None:
    """A one-line reason when ``error`` means the Prefect API cannot be reached."""
    import httpx

    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, (httpx.ConnectError, httpx.ConnectTimeout, ConnectionError)):
            from prefect.settings import PREFECT_API_URL

            return (
                f"cannot reach the Prefect API at {PREFECT_API_URL.value() or '(unset)'}: "
                "start it (`prefect server start`) or set PREFECT_API_URL"
            )
        seen = seen.__cause__ or seen.__context__
    return None


def register(
    settings: Settings,
    source: str,
    *,
    prefix: str,
    cron: str | None,
    work_pool: str | None,
    image: str | None,
) -> None:
    """Create the provider limit and register (or serve) every deployment."""
    quiet_prefect()
    from mmingest.flows.deployments import (
        DeploymentPlan,
        check_state_dir,
        deploy_to_pool,
        ensure_provider_limit,
        runner_deployments,
    )

    plan = DeploymentPlan(
        source,
        settings.collection,
        cron=cron,
        prefix=prefix,
        work_pool=work_pool,
        image=image,
        collision_strategy=settings.flow.collision_strategy,
    )
    try:
        if work_pool:
            check_state_dir(settings)
        limit = ensure_provider_limit(settings)
        if limit:
            out.print(f"concurrency limit {limit}: {settings.flow.max_workers} units at once")
        if work_pool:
            for deployment_id in deploy_to_pool(plan):
                out.print(f"registered deployment {deployment_id}")
            return
        from prefect import serve

        serve(*runner_deployments(plan))
    except Exception as error:
        reason = _unreachable(error)
        if reason is None:
            raise
        err.print(reason, soft_wrap=True)
        raise typer.Exit(EXIT_PARTIAL) from None
