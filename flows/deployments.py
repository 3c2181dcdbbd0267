"""Register the flows as Prefect deployments: served from a process, or for a work pool.

One route for work pools: ``mmingest deploy --work-pool`` and ``deploy/prefect.yaml`` both
register module entrypoints (``mmingest.flows.prefect_flows.sync``...) run from the installed
package (the image's), never a checkout path of the deploying machine; every deployment has a
concurrency limit of one run with the configured collision strategy, so two runs of it never
write one collection at once; the provider's global concurrency limit is created by every route
(and by each flow run when missing).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from mmingest.connectors.extras import needs_extra
from mmingest.schemas.errors import ConfigError
from mmingest.schemas.settings import Settings

MODULE = "mmingest.flows.prefect_flows"
FLOWS = {
    "sync": "sync",
    "backfill": "backfill",
    "ingest-images": "ingest_images",
    "ingest-pdfs": "ingest_pdfs",
    "ingest-products": "ingest_products",
    "reembed": "reembed",
}
ENTRYPOINTS = {key: f"{MODULE}.{name}" for key, name in FLOWS.items()}
"""What Prefect stores for a module entrypoint (``RunnerDeployment`` writes module.function)."""
STRATEGIES = {"enqueue": "ENQUEUE", "cancel": "CANCEL_NEW"}


@dataclass(frozen=True)
class DeploymentPlan:
    """What to register: the source and collection every deployment works on, the schedule
    of the sync deployment, where runs execute and what happens when runs collide."""

    source: str
    collection: str
    cron: str | None = "0 * * * *"
    prefix: str = ""
    work_pool: str | None = None
    image: str | None = None
    collision_strategy: str = "enqueue"

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

    def concurrency(self) -> Any:
        """One run at a time per deployment, enqueued or cancelled on collision."""
        from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy

        return ConcurrencyLimitConfig(
            limit=1,
            collision_strategy=ConcurrencyLimitStrategy(STRATEGIES[self.collision_strategy]),
        )


def _embedded(settings: Settings) -> bool:
    """Whether the configured store lives under a local path (judged from its settings, before
    anything is opened)."""
    store = settings.store
    if store.kind == "qdrant-edge":
        return True
    if store.kind == "milvus":
        return "://" not in str(getattr(store, "uri", "") or "")
    if store.kind == "qdrant":
        return getattr(store, "path", None) is not None
    return False


def check_state_dir(settings: Settings) -> None:
    """Refuse a relative state directory where work-pool workers run flows: a worker would put
    the embedded store, caches and dead letters wherever its flow run happens to start."""
    if not settings.state_dir.is_absolute() and _embedded(settings):
        raise ConfigError(
            f"state_dir is relative ({settings.state_dir}): workers of a pool would write the "
            "embedded store and caches into whatever folder a run starts in. Set "
            "MMINGEST_STATE_DIR to an absolute path on the workers (and here), or use a server "
            "store"
        )


def _deployments(plan: DeploymentPlan) -> list[Any]:
    with needs_extra("Prefect deployments"):
        from prefect.deployments.runner import EntrypointType  # type: ignore[attr-defined]

        from mmingest.flows import prefect_flows

    return [
        getattr(prefect_flows, name).to_deployment(
            name=plan.name(key),
            cron=plan.cron if key == "sync" else None,
            parameters=plan.parameters(key),
            tags=["mmingest"],
            concurrency_limit=plan.concurrency(),
            entrypoint_type=EntrypointType.MODULE_PATH,
        )
        for key, name in FLOWS.items()
    ]


def runner_deployments(plan: DeploymentPlan) -> list[Any]:
    """Deployments to serve from this process (``prefect.serve``)."""
    return _deployments(plan)


def deploy_to_pool(plan: DeploymentPlan) -> list[str]:
    """Register every flow with ``plan.work_pool``; returns the deployment ids.

    The entrypoints are module paths: a worker runs the package installed in its image
    (``--image``, for Docker or Kubernetes pools) or environment (process pools).
    """
    from prefect.client.orchestration import get_client

    if plan.work_pool is None:
        raise ConfigError("deploy_to_pool needs a work pool name")
    with get_client(sync_client=True) as client:
        client.read_work_pool(plan.work_pool)  # a missing pool fails here, with its name
    # RunnerDeployment.apply registers quietly (prefect.deploy prints a table and advice).
    return [
        str(cast(Any, deployment).apply(work_pool_name=plan.work_pool, image=plan.image))
        for deployment in _deployments(plan)
    ]


def ensure_provider_limit(settings: Settings) -> str | None:
    """The global concurrency limit units take before calling a remote provider, created or
    updated on the server (every route calls this: ``deploy``, ``serve`` and each flow run).

    At most ``flow.max_workers`` units call the provider at once across every worker; with a
    requests-per-minute quota, slots also decay at that rate. Each unit's embedder keeps its
    own client-side rate limiter: give each worker its share of the quota.
    """
    kind = settings.embedder.kind
    if kind == "clip":
        return None
    from prefect.client.orchestration import get_client

    name = f"mmingest-embed-{kind}"
    rpm = getattr(settings.embedder, "requests_per_minute", None)
    with get_client(sync_client=True) as client:
        client.upsert_global_concurrency_limit_by_name(
            name, settings.flow.max_workers, slot_decay_per_second=rpm / 60 if rpm else None
        )
    return name
