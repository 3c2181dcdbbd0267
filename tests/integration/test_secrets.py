"""Canary secrets for the provider, the store and the bucket never show anywhere.

The provider key, the store API key and the S3 secret key are set to recognisable canaries
through the environment, as an operator would. Then everything that can go wrong goes wrong
(provider 500 and 429, an input the provider refuses, an object storage that keeps failing,
wrong credentials, a store that is down) with every logger at DEBUG, and everything a user or
an operator could see is searched for the canaries: console output, logs, exception messages,
reprs and tracebacks, the run summary (JSON and the Prefect artifact's Markdown), ``mmingest
doctor`` and every byte written under the state dir. (Each provider's own failure paths are
covered per provider in ``tests/integration/embedders/test_secrets.py``.)
"""

from __future__ import annotations

import json
import logging
import traceback

import pytest

from mmingest.flows.artifacts import one_line, report_data, report_markdown
from mmingest.flows.cli import main
from mmingest.flows.jobs import run_job, spec_from
from mmingest.flows.runtime import open_runtime
from mmingest.pipelines.samples import encode
from mmingest.schemas.errors import MmingestError
from mmingest.schemas.settings import Settings
from tests.emulators.faulty_proxy import FaultyProxy
from tests.emulators.providers import CohereEmulator
from tests.emulators.weaviate.server import WeaviateEmulator
from tests.integration.embedders.conftest import MODERATED, refusing
from tests.support.corpus import picture
from tests.support.ports import free_port
from tests.support.s3 import ACCESS_KEY

pytestmark = pytest.mark.timeout(120)

CANARY = "sk-canary-7f3a"
PROVIDER_KEY = f"{CANARY}-provider-91d2"
STORE_KEY = f"{CANARY}-store-44be"
S3_SECRET = f"{CANARY}-s3-0c6a"
IMAGES = 6


def cli(capture, *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    captured = capture.readouterr()
    return int(exited.value.code or 0), captured.out + captured.err


def chain(error: BaseException) -> list[str]:
    """What an error can show: message, repr, and the whole traceback with its causes."""
    message = getattr(error, "message", "")
    return [message, str(error), repr(error), "".join(traceback.format_exception(error))]


@pytest.fixture
def world(monkeypatch, tmp_path, s3_server):
    """A bucket behind a fault-injecting proxy, a Cohere emulator and a Weaviate emulator,
    with mmingest configured through the environment, secrets being canaries."""
    bucket = s3_server.new_bucket()
    objects = {f"pics/{i:02d}.png": encode(picture(), "PNG") for i in range(IMAGES)}
    objects["pics/03.txt"] = f"a {MODERATED} caption\n".encode()
    s3_server.put_many(bucket, objects)
    with (
        FaultyProxy(s3_server.endpoint) as proxy,
        refusing(CohereEmulator)(api_key=PROVIDER_KEY) as cohere,
        WeaviateEmulator() as weaviate,
    ):
        environment = {
            "MMINGEST_STATE_DIR": str(tmp_path / "state"),
            "MMINGEST_COLLECTION": "canary",
            "MMINGEST_EMBEDDER__KIND": "cohere",
            "MMINGEST_EMBEDDER__BASE_URL": cohere.base_url,
            "CO_API_KEY": PROVIDER_KEY,
            "MMINGEST_STORE__KIND": "weaviate",
            "MMINGEST_STORE__URL": weaviate.url,
            "MMINGEST_STORE__GRPC_URL": f"http://{weaviate.host}:{weaviate.grpc_port}",
            "MMINGEST_STORE__API_KEY": STORE_KEY,
            "MMINGEST_SOURCE__S3__ENDPOINT": proxy.url,
            "MMINGEST_SOURCE__S3__REGION": "us-east-1",
            "MMINGEST_SOURCE__S3__ALLOW_HTTP": "true",
            "MMINGEST_SOURCE__S3__ACCESS_KEY_ID": ACCESS_KEY,
            "MMINGEST_SOURCE__S3__SECRET_ACCESS_KEY": S3_SECRET,
            "MMINGEST_SOURCE__MAX_RETRIES": "1",
        }
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        yield f"s3://{bucket}", proxy, cohere, tmp_path / "state"


def test_canaries_never_leak(world, caplog, capfd, monkeypatch, ledger):
    source, proxy, cohere, state = world
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    settings = Settings()
    assert settings.store.api_key.get_secret_value() == STORE_KEY  # the canaries are in use
    assert settings.source.s3.secret_access_key.get_secret_value() == S3_SECRET
    seen += [repr(settings), str(settings), json.dumps(settings.redacted())]

    # A run with a provider 500 and a 429 (retried), an object storage that keeps failing
    # on one object, and one caption the provider refuses: both dead-lettered.
    cohere.fail_next(1, status=500)
    cohere.fail_next(1, status=429, retry_after=0)
    proxy.always("status", lambda method, path: path.endswith("/pics/05.png"), status=503)
    code, output = cli(capfd, "-vv", "ingest", source, "--json", "--no-progress")
    seen.append(output)
    assert code == 3, output
    summary = json.loads(output)
    assert (summary["written"], summary["failed"]) == (IMAGES - 2, 2)
    assert cohere.counters.inputs_embedded > 0  # the key was sent and accepted
    letters = (state / "dead-letters" / "canary.jsonl").read_text()
    assert {json.loads(line)["reason"] for line in letters.splitlines()} == {
        "source_unavailable",
        "input_rejected",
    }
    ledger.faults(4)  # 500, 429, 503 (sticky), refused input
    ledger.bad_inputs(1)
    ledger.outcome(summary)

    # The same job run directly, as the Prefect flow does: its summary, data and artifact.
    with open_runtime(Settings()) as runtime:
        spec = spec_from(runtime.settings, source)
        report = run_job(spec, runtime, dead_letters=runtime.dead_letters)
    markdown = report_markdown(report, spec)
    assert "source_unavailable" in markdown  # the artifact shows the failures...
    seen += [markdown, json.dumps(report_data(report)), one_line(report)]
    seen += [report.summary.model_dump_json(), repr(report)]
    seen += [failure.message for failure in report.summary.failures]

    # doctor: the effective configuration and every check.
    code, output = cli(capfd, "doctor", source, "--model")
    seen.append(output)
    assert code == 0, output
    assert "**********" in output  # ...and masks every secret it prints

    # Wrong provider credentials: the run stops at once with a message naming the setting.
    cohere.api_key = "rotated"
    code, output = cli(capfd, "ingest", source, "--no-progress")
    seen.append(output)
    assert code == 1 and "CO_API_KEY" in output
    code, output = cli(capfd, "doctor", source, "--model")
    seen.append(output)
    assert code == 1 and "FAIL embedder" in output

    # A store that is down, and object storage that refuses everything.
    monkeypatch.setenv("MMINGEST_STORE__URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("MMINGEST_STORE__GRPC_URL", f"http://127.0.0.1:{free_port()}")
    proxy.clear()
    proxy.always("status", lambda method, path: True, status=403)
    code, output = cli(capfd, "doctor", source)
    seen.append(output)
    assert code == 1 and "FAIL store" in output and "FAIL source" in output
    with pytest.raises(MmingestError) as caught, open_runtime(Settings()):
        pass
    seen += chain(caught.value)
    ledger.faults(2)  # store down, source refusing

    # Every byte under the state dir: dead letters, embedding cache, anything else.
    files = [path for path in state.rglob("*") if path.is_file()]
    assert any(path.suffix == ".jsonl" for path in files)
    assert any(path.suffix == ".sqlite3" for path in files)
    for path in files:
        assert CANARY.encode() not in path.read_bytes(), path

    output = capfd.readouterr()
    everything = "\n".join([*seen, caplog.text, output.out, output.err])
    assert len(caplog.records) > 20  # the SDKs, HTTP clients and the pipeline did log
    assert CANARY not in everything
