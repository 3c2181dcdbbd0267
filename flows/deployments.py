"""Register the flows as Prefect deployments (a served process, or a work pool's workers)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from mmingest.connectors.extras import needs_extra
from mmingest.schemas.settings import Settings

REPOSITORY = Path(__file__).resolve().parents[1]
ENTRYPOINTS = {
    "sync": "flows/prefect_flows.py:sync",
    "backfill": "flows/prefect_flows.py:backfill",
    "ingest-images": "flows/prefect_flows.py:ingest_images",
    "ingest-pdfs": "flows/prefect_flows.py:ingest_pdfs",
    "ingest-products": "flows/prefect_flows.py:ingest_products",
    "reembed": "flows/prefect_flows.py:reembed",
}


@dataclass(frozen=True)
class DeploymentPlan:
    """What to register: the source and collection every deployment works on, the schedule
    of the sync deployment, and where runs execute."""

    source: str
    collection: str
    cron: str | None = "0 * * * *"
    prefix: str = ""
    work_pool: str | None = None

    def name(self, flow: str) -> str:
        """Deployment name: the collection and the flow."""
        return f"{self.collection}-{flow}"

    def parameters(self, flow: str) -> dict[str, Any]:
        """Default parameters of a flow's deployment."""
        parameters: dict[str, Any] = {"source": self.source, "collection": self.collection}
        if self.prefix:
            parameters["prefix"] = self.prefix
        if flow == "reembed":
            parameters["embedder"] = {}
        return parameters


def runner_deployments(plan: DeploymentPlan) -> list[Any]:
    """Deployments to serve from this process (``prefect.serve``)."""
    with needs_extra("Prefect deployments"):
        from mmingest.flows import prefect_flows

    flows: dict[str, Any] = {
        "sync": prefect_flows.sync,
        "backfill": prefect_flows.backfill,
        "ingest-images": prefect_flows.ingest_images,
        "ingest-pdfs": prefect_flows.ingest_pdfs,
        "ingest-products": prefect_flows.ingest_products,
        "reembed": prefect_flows.reembed,
    }
    return [
        flow.to_deployment(
            name=plan.name(key),
            cron=plan.cron if key == "sync" else None,
            parameters=plan.parameters(key),
            tags=["mmingest"],
        )
        for key, flow in flows.items()
    ]


def deploy_to_pool(plan: DeploymentPlan) -> list[str]:
    """Register every flow with ``plan.work_pool`` (code from this repository); returns ids."""
    from prefect import flow as prefect_flow

    ids = []
    for key, entrypoint in ENTRYPOINTS.items():
        # Synchronous callers get the flow itself, not a coroutine.
        remote = cast(Any, prefect_flow.from_source(source=str(REPOSITORY), entrypoint=entrypoint))
        ids.append(
            str(
                remote.deploy(
                    name=plan.name(key),
                    work_pool_name=plan.work_pool,
                    cron=plan.cron if key == "sync" else None,
                    parameters=plan.parameters(key),
                    tags=["mmingest"],
                    print_next_steps=False,
                )
            )
        )
    return ids


async def _ensure_limit(name: str, limit: int, decay: float | None) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import (
        GlobalConcurrencyLimitCreate,
        GlobalConcurrencyLimitUpdate,
    )
    from prefect.exceptions import ObjectNotFound

    async with get_client() as client:
        try:
            await client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            await client.create_global_concurrency_limit(
                GlobalConcurrencyLimitCreate(
                    name=name, limit=limit, slot_decay_per_second=decay or 0.0
                )
            )
            return
        await client.update_global_concurrency_limit(
            name, GlobalConcurrencyLimitUpdate(limit=limit, slot_decay_per_second=decay or 0.0)
        )


def ensure_provider_limit(settings: Settings, workers: int) -> str | None:
    """The global concurrency limit batch tasks take before calling a remote provider.

    At most ``workers`` batches call the provider at once across every worker; with a
    requests-per-minute quota, slots also decay at that rate. Each batch's embedder keeps its
    own client-side rate limiter: give each worker its share of the quota.
    """
    kind = settings.embedder.kind
    if kind == "clip":
        return None
    name = f"mmingest-embed-{kind}"
    rpm = getattr(settings.embedder, "requests_per_minute", None)
    asyncio.run(_ensure_limit(name, workers, rpm / 60 if rpm else None))
    return name
