"""A canary key must never appear in logs, errors, reprs, summaries, dead letters or doctor.

Each provider runs its happy path and every failure path with a recognisable key, with every
logger (SDKs and HTTP clients included) at DEBUG; then everything a user or an operator could
see is searched for the key.
"""

from __future__ import annotations

import json
import logging

import pytest

from mmingest.connectors.sources.local import LocalFolderSource
from mmingest.flows.cli import main
from mmingest.pipelines.deadletters import JsonlDeadLetters
from mmingest.pipelines.ingest import ingest_images
from mmingest.pipelines.samples import write_images
from mmingest.schemas.config import IngestConfig
from mmingest.schemas.errors import MmingestError
from mmingest.schemas.settings import Settings
from tests.emulators.providers import CohereEmulator
from tests.integration.embedders.conftest import FAST, MODERATED, refusing
from tests.support.providers import CASES, picture

pytestmark = pytest.mark.timeout(60)

CANARY = "sk-CANARY-5c1e0f9d2b"


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_canary_key_never_leaks(name, caplog, capfd, tmp_path, edge_store, ledger):
    import voyageai

    monkey_log = voyageai.log
    voyageai.log = "debug"  # voyageai prints its debug records itself
    caplog.set_level(logging.DEBUG)
    case = CASES[name]
    seen: list[str] = []
    try:
        with refusing(case.emulator)(api_key=CANARY) as emulator:
            embedder = case.build(emulator, CANARY)
            seen += [repr(embedder.info), repr(case.config(emulator, CANARY))]
            seen.append(str(case.config(emulator, CANARY).model_dump()))
            embedder.embed_texts(["fine"])
            embedder.embed_images([picture(1)])
            impatient = case.build(emulator, CANARY, timeout_s=0.3)
            for inject, client in (
                (lambda: emulator.fail_next(1, status=429, retry_after=0), embedder),
                (lambda: emulator.fail_next(1, status=500), embedder),
                (lambda: emulator.drop_next(1), embedder),
                (lambda: emulator.malformed_next(1), embedder),
                (lambda: emulator.delay_next(1, seconds=1), impatient),
                (lambda: None, embedder),
            ):
                inject()
                ledger.faults(1)
                try:
                    client.embed_texts([f"{MODERATED} text"])
                except MmingestError as error:
                    seen += [error.message, str(error), repr(error)]
            impatient.close()

            folder = tmp_path / "images"
            write_images(folder, 2)
            (folder / "red-circle-on-white.txt").write_text(f"{MODERATED} caption\n")
            dead = JsonlDeadLetters(tmp_path / "dead", "photos")
            summary = ingest_images(
                LocalFolderSource(folder),
                embedder,
                edge_store,
                collection="photos",
                config=IngestConfig(batch_size=2),
                dead_letters=dead,
                retry=FAST,
            )
            assert summary.failed >= 1
            ledger.bad_inputs(1)
            ledger.outcome(summary)
            seen.append(summary.model_dump_json())
            seen.append(dead.path.read_text())
            embedder.close()

            wrong = refusing(case.emulator)(api_key="the-right-key").start()
            try:
                refused = case.build(wrong, CANARY)
                ledger.faults(1)
                with pytest.raises(MmingestError) as caught:
                    refused.embed_texts(["x"])
                seen += [caught.value.message, repr(caught.value)]
                refused.close()
            finally:
                wrong.stop()
    finally:
        voyageai.log = monkey_log
    output = capfd.readouterr()
    everything = "\n".join([*seen, caplog.text, output.out, output.err])
    assert len(caplog.records) > 5  # the HTTP clients and the pipeline did log
    assert CANARY not in everything


def test_doctor_checks_the_key_without_ever_showing_it(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("MMINGEST_EMBEDDER__KIND", "cohere")
    monkeypatch.setenv("CO_API_KEY", CANARY)
    monkeypatch.setenv("MMINGEST_STATE_DIR", str(tmp_path / "state"))
    with CohereEmulator(api_key=CANARY) as emulator:
        monkeypatch.setenv("MMINGEST_EMBEDDER__BASE_URL", emulator.base_url)
        assert CANARY not in json.dumps(Settings().redacted()) + repr(Settings())
        with pytest.raises(SystemExit) as exited:
            main(["doctor"])
        ok = capsys.readouterr()
        shown = " ".join(ok.out.split())  # the console wraps long lines
        assert exited.value.code == 0
        assert "ok embedder: cohere:embed-v4.0 ready" in shown
        assert "a test query was embedded (2 input_tokens)" in shown
        emulator.api_key = "rotated"
        with pytest.raises(SystemExit) as exited:
            main(["doctor"])
        refused = capsys.readouterr()
    assert exited.value.code == 1
    assert "FAIL embedder: cohere answered 401" in " ".join(refused.out.split())
    assert "CO_API_KEY" in refused.out
    assert CANARY not in ok.out + ok.err + refused.out + refused.err
