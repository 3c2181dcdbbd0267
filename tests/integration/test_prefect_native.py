"""Prefect-native behaviour against a real ``prefect server``: final states, run logs, task
names and retries, per-collection artifacts, credentials, deployments and quiet output."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mmingest.pipelines.samples import write_images
from tests.support.prefect_server import prefect_environment

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture
def environment(prefect_api, tiny_clip_dir, tmp_path, monkeypatch):
    env = {
        **prefect_environment(tmp_path / "prefect-client", prefect_api),
        "MMINGEST_EMBEDDER__MODEL": str(tiny_clip_dir),
        "MMINGEST_STATE_DIR": str(tmp_path / "state"),
        "MMINGEST_EMBEDDING_CACHE__ENABLED": "false",
        "MMINGEST_INGEST__BATCH_SIZE": "2",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: prefect_api}):
        yield env


def _corpus(folder: Path, good: int = 5) -> Path:
    write_images(folder, good)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    return folder


async def _read(kind: str, flow_run_id: object) -> list:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas import filters

    async with get_client() as client:
        if kind == "logs":
            return await client.read_logs(
                log_filter=filters.LogFilter(
                    flow_run_id=filters.LogFilterFlowRunId(any_=[flow_run_id])
                )
            )
        if kind == "tasks":
            return await client.read_task_runs(
                flow_run_filter=filters.FlowRunFilter(
                    id=filters.FlowRunFilterId(any_=[flow_run_id])
                )
            )
        return await client.read_artifacts(
            artifact_filter=filters.ArtifactFilter(
                flow_run_id=filters.ArtifactFilterFlowRunId(any_=[flow_run_id])
            )
        )


def test_failed_items_end_the_run_failed_after_its_artifacts(environment, tmp_path):
    from mmingest.flows.prefect_flows import sync

    folder = _corpus(tmp_path / "pics")
    state = sync(str(folder), collection="Photos_A", return_state=True)
    assert state.is_failed(), state
    assert "1 of 6 items failed" in state.message
    run_id = state.state_details.flow_run_id
    result = state.result(raise_on_failure=False)
    assert (result["written"], result["failed"]) == (5, 1)

    found = {a.key: str(a.data) for a in asyncio.run(_read("artifacts", run_id)) if a.key}
    summary = found["mmingest-photos-a-summary"]  # per collection
    assert "| written | 5 |" in summary and "| failed | 1 |" in summary
    assert "| objects/s | 0.0 |" not in summary  # the rate is measured
    assert "mmingest-photos-a-progress" in found

    for _ in range(20):  # logs are shipped in the background
        logs = asyncio.run(_read("logs", run_id))
        library = [log for log in logs if log.name.startswith("mmingest.pipelines")]
        if any("broken.jpg" in log.message for log in library):
            break
        time.sleep(0.5)
    else:
        raise AssertionError([(log.name, log.message[:80]) for log in logs])

    names = sorted(t.name for t in asyncio.run(_read("tasks", run_id)))
    assert names[0].startswith("images broken.jpg..")  # kind and key range
    assert all(name.startswith(("images ", "not inputs")) for name in names), names


def test_a_named_completed_state_when_asked(environment, tmp_path, monkeypatch):
    from mmingest.flows.prefect_flows import backfill

    monkeypatch.setenv("MMINGEST_FLOW__PARTIAL_STATE", "completed")
    state = backfill(str(_corpus(tmp_path / "pics")), collection="lenient", return_state=True)
    assert state.is_completed() and state.name == "CompletedWithFailures", state
    assert state.result()["failed"] == 1


def test_task_retries_follow_the_setting(environment, tmp_path, monkeypatch):
    from mmingest.flows import partitions
    from mmingest.flows.prefect_flows import ingest_images
    from mmingest.schemas.errors import StoreUnavailable

    real = partitions.run_unit
    calls: list[int] = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise StoreUnavailable("the store blinked")
        return real(*args, **kwargs)

    monkeypatch.setattr(partitions, "run_unit", flaky)
    monkeypatch.setenv("MMINGEST_FLOW__TASK_RETRIES", "1")
    write_images(tmp_path / "two", 2)
    state = ingest_images(str(tmp_path / "two"), collection="retried", return_state=True)
    assert state.is_completed(), state
    assert state.result()["written"] == 2
    (task_run,) = asyncio.run(_read("tasks", state.state_details.flow_run_id))
    assert task_run.run_count == 2

    calls.clear()
    monkeypatch.setenv("MMINGEST_FLOW__TASK_RETRIES", "0")
    state = ingest_images(str(tmp_path / "two"), collection="retried2", return_state=True)
    assert state.is_failed()


def test_secret_values_in_parameters_are_refused_and_blocks_are_read(environment, tmp_path):
    from prefect.blocks.system import Secret

    from mmingest.flows.parameters import RunParameters, settings_for
    from mmingest.flows.prefect_flows import backfill

    write_images(tmp_path / "pics", 1)
    state = backfill(
        str(tmp_path / "pics"),
        settings={"store": {"kind": "qdrant", "url": "http://127.0.0.1:1", "api_key": "sk-x"}},
        return_state=True,
    )
    assert state.is_failed()
    with pytest.raises(Exception, match="credentials are refused") as refused:
        state.result()
    assert "sk-x" not in str(refused.value)

    Secret(value="from-a-block").save("mmingest-test-key", overwrite=True)
    settings = settings_for(
        RunParameters(
            settings={"store": {"kind": "qdrant", "url": "http://127.0.0.1:1"}},
            secret_blocks={"store.api_key": "mmingest-test-key"},
        )
    )
    assert settings.store.api_key.get_secret_value() == "from-a-block"

    from prefect_aws import AwsCredentials

    AwsCredentials(
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="s3-secret",
        region_name="eu-west-1",
    ).save("mmingest-test-aws", overwrite=True)
    s3 = settings_for(RunParameters(secret_blocks={"source.s3": "mmingest-test-aws"})).source.s3
    assert (s3.access_key_id, s3.region) == ("AKIDEXAMPLE", "eu-west-1")
    assert s3.secret_access_key.get_secret_value() == "s3-secret"


def test_the_provider_limit_exists_on_every_route(environment):
    from prefect.client.orchestration import get_client

    from mmingest.flows.deployments import ensure_provider_limit
    from mmingest.schemas.settings import Settings

    settings = Settings(
        embedder={"kind": "cohere", "requests_per_minute": 120}, flow={"max_workers": 3}
    )
    assert ensure_provider_limit(settings) == "mmingest-embed-cohere"
    with get_client(sync_client=True) as client:
        limit = client.read_global_concurrency_limit_by_name("mmingest-embed-cohere")
    assert (limit.limit, limit.slot_decay_per_second) == (3, 2.0)


def _deployment(name: str):
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return client.read_deployment_by_name(name)


def test_work_pool_deployments_are_one_route_with_a_concurrency_limit(environment, tmp_path):
    from mmingest.flows.deployments import ENTRYPOINTS

    env = {**os.environ, **environment, "MMINGEST_FLOW__COLLISION_STRATEGY": "cancel"}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "prefect",
            "work-pool",
            "create",
            "mmingest-test",
            "--type",
            "process",
        ],
        env=env,
        capture_output=True,
        timeout=120,
    )
    relative = subprocess.run(
        [sys.executable, "-m", "mmingest", "deploy", "s3://b/p", "--work-pool", "mmingest-test"],
        env={**env, "MMINGEST_STATE_DIR": ".mmingest"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert relative.returncode != 0 and "absolute path" in relative.stderr + relative.stdout
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mmingest",
            "deploy",
            "s3://b/p",
            "--work-pool",
            "mmingest-test",
            "-c",
            "pooled",
        ],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    printed = (done.stdout + done.stderr).strip().splitlines()
    assert len(printed) <= 8, printed  # quiet: one line per deployment, no Prefect advice
    deployment = _deployment("sync/pooled-sync")
    assert deployment.entrypoint == ENTRYPOINTS["sync"] == "mmingest.flows.prefect_flows.sync"
    assert str(ROOT) not in str(deployment.pull_steps)
    assert deployment.global_concurrency_limit.limit == 1
    assert str(deployment.concurrency_options.collision_strategy).endswith("CANCEL_NEW")
    assert "description" in str(deployment.parameter_openapi_schema["properties"]["source"])


def test_an_unreachable_api_is_one_line(tmp_path):
    env = {
        **os.environ,
        **prefect_environment(tmp_path / "home", "http://127.0.0.1:9/api"),
        "MMINGEST_STATE_DIR": str(tmp_path / "state"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "mmingest", "deploy", "s3://b/p", "--work-pool", "p"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert done.returncode != 0
    assert len(lines) == 1 and "cannot reach the Prefect API" in lines[0], lines


def test_prefect_yaml_registers_the_same_deployments(environment, tmp_path):
    from mmingest.flows.deployments import ENTRYPOINTS

    env = {**os.environ, **environment, "PREFECT_CLI_PROMPT": "false"}
    subprocess.run(
        [sys.executable, "-m", "prefect", "work-pool", "create", "mmingest", "--type", "process"],
        env=env,
        capture_output=True,
        timeout=120,
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "prefect",
            "--no-prompt",
            "deploy",
            "--all",
            "--prefect-file",
            str(ROOT / "deploy" / "prefect.yaml"),
        ],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for flow, key in (("sync", "sync"), ("backfill", "backfill"), ("ingest-pdfs", "ingest-pdfs")):
        deployment = _deployment(f"{flow}/products-{key}")
        assert deployment.entrypoint == ENTRYPOINTS[key]
        assert not deployment.pull_steps  # code from the image, as `deploy --work-pool`
        assert deployment.global_concurrency_limit.limit == 1


def _run_deployment(env: dict[str, str], name: str) -> str:
    triggered = subprocess.run(
        [sys.executable, "-m", "prefect", "deployment", "run", name],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert triggered.returncode == 0, triggered.stdout + triggered.stderr
    return re.search(r"UUID: ([0-9a-f-]{36})", triggered.stdout).group(1)


def test_overlapping_runs_of_a_deployment_collide_as_configured(environment, tmp_path):
    from prefect.client.orchestration import get_client

    folder = tmp_path / "served"
    write_images(folder, 8)
    env = {**os.environ, **environment, "MMINGEST_FLOW__COLLISION_STRATEGY": "cancel"}
    served = subprocess.Popen(
        [sys.executable, "-m", "mmingest", "deploy", str(folder), "--serve", "-c", "collide"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                _deployment("sync/collide-sync")
                break
            except Exception:
                assert served.poll() is None and time.monotonic() < deadline
                time.sleep(1)
        runs = [_run_deployment(env, "sync/collide-sync") for _ in range(2)]
        deadline = time.monotonic() + 300
        while True:
            with get_client(sync_client=True) as client:
                states = [client.read_flow_run(run).state for run in runs]
            if all(state is not None and state.is_final() for state in states):
                break
            assert time.monotonic() < deadline, states
            time.sleep(1)
        kinds = sorted(state.type.value for state in states)
        assert kinds == ["CANCELLED", "COMPLETED"], states  # never two writers on one collection
    finally:
        served.terminate()
        try:
            served.wait(timeout=30)
        except subprocess.TimeoutExpired:
            served.kill()
