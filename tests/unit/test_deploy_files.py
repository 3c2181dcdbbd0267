"""deploy/prefect.yaml, the Dockerfile and the Kubernetes example match the code."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import yaml

from mmingest.flows import prefect_flows
from mmingest.flows.deployments import ENTRYPOINTS

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
FLOWS = {"sync", "backfill", "ingest_images", "ingest_pdfs", "ingest_products", "reembed"}


def test_every_flow_has_a_deployment_whose_parameters_it_accepts():
    config = yaml.safe_load((DEPLOY / "prefect.yaml").read_text(encoding="utf-8"))
    seen = set()
    for deployment in config["deployments"]:
        path, function = deployment["entrypoint"].rsplit(".", 1)
        assert path == "mmingest.flows.prefect_flows"  # the installed module, as deploy --work-pool
        assert deployment["concurrency_limit"]["limit"] == 1
        assert deployment["concurrency_limit"]["collision_strategy"] in {"ENQUEUE", "CANCEL_NEW"}
        flow = getattr(prefect_flows, function)
        accepted = set(inspect.signature(flow.fn).parameters)
        assert set(deployment["parameters"]) <= accepted, deployment["name"]
        assert deployment["work_pool"]["name"] == "mmingest"
        seen.add(function)
    assert seen == FLOWS
    assert config["pull"] == []  # no checkout path: code comes from the image
    entrypoints = {d["entrypoint"] for d in config["deployments"]}
    assert entrypoints == set(ENTRYPOINTS.values())  # the same as `mmingest deploy --work-pool`
    sync = next(d for d in config["deployments"] if d["entrypoint"].endswith(".sync"))
    assert sync["schedules"][0]["cron"]


def test_compose_gains_minio_and_a_prefect_server_and_worker():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"9000:9000", "9001:9001"} <= set(services["minio"]["ports"])
    assert "4200:4200" in services["prefect"]["ports"]
    assert services["worker"]["build"]["dockerfile"] == "deploy/Dockerfile"
    assert services["worker"]["environment"]["PREFECT_API_URL"] == "http://prefect:4200/api"
    prefect_tag = services["prefect"]["image"].split(":")[1]
    assert prefect_tag.startswith("3.8."), "the server's version matches the tested client"


def test_worker_image_installs_the_pinned_cpu_stack():
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert "-c deploy/constraints.txt '.[all]'" in dockerfile
    assert "download.pytorch.org/whl/cpu" in dockerfile
    assert '"prefect", "worker", "start", "--pool", "mmingest"' in dockerfile
    template = json.loads((DEPLOY / "k8s" / "base-job-template.json").read_text())
    container = template["job_configuration"]["job_manifest"]["spec"]["template"]["spec"][
        "containers"
    ][0]
    assert container["envFrom"][0]["secretRef"]["name"] == "mmingest-settings"
