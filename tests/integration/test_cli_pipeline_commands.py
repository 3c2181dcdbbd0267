"""The pipeline commands end to end: dry run, sync, verify/--fix, retry-failed, resumable
backfill killed with SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mmingest.flows.cli import main
from mmingest.pipelines.deadletters import JsonlDeadLetters
from mmingest.pipelines.samples import encode, write_images
from tests.emulators.providers import CohereEmulator
from tests.support.corpus import picture

ROOT = Path(__file__).resolve().parents[2]


def cli(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


@pytest.fixture
def configured(monkeypatch, tiny_clip_dir, tmp_path):
    monkeypatch.setenv("MMINGEST_EMBEDDER__MODEL", str(tiny_clip_dir))
    monkeypatch.setenv("MMINGEST_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("MMINGEST_EMBEDDING_CACHE__ENABLED", "false")
    folder = tmp_path / "pics"
    write_images(folder, 8)
    return folder


def test_dry_run_then_sync_then_verify_and_fix(capsys, configured):
    folder = configured
    code, out, _ = cli(capsys, "ingest", str(folder), "--dry-run", "--json")
    plan = json.loads(out)
    assert code == 0 and plan["dry_run"] and plan["new"] == 8 and plan["written"] == 0
    assert plan["estimate"]["images"] == 8
    code, out, _ = cli(capsys, "ingest", str(folder), "--json")
    assert json.loads(out)["written"] == 8

    code, out, _ = cli(capsys, "verify", str(folder), "--json")
    clean = json.loads(out)["reconcile"]
    assert code == 0 and (clean["missing"], clean["stale"], clean["orphaned"]) == (0, 0, 0)

    victim = sorted(p for p in folder.iterdir() if p.suffix != ".txt" and p.suffix != ".json")[0]
    victim.unlink()
    (folder / "extra.png").write_bytes(encode(picture("purple"), "PNG"))
    changed = next(p for p in sorted(folder.glob("*.txt")) if p.stem != victim.stem)
    changed.write_text("a brand new caption")
    os.utime(changed, ns=(10**18, 10**18))
    code, out, _ = cli(capsys, "verify", str(folder), "--json")
    report = json.loads(out)["reconcile"]
    assert code == 3
    assert (report["missing"], report["stale"], report["orphaned"]) == (1, 1, 1)

    code, out, _ = cli(capsys, "verify", str(folder))
    assert code == 3
    assert all(word in out for word in ("missing", "stale", "orphaned", "--fix"))
    assert "plan for" not in out and "would add" not in out

    code, out, _ = cli(capsys, "verify", str(folder), "--fix", "--json")
    fixed = json.loads(out)["reconcile"]
    assert code == 0 and fixed["found"] == {"missing": 1, "stale": 1, "orphaned": 1}
    # After the fix nothing is left: "missing" is no longer the number just written.
    assert fixed["remaining"] == {"not_written": 0, "orphaned": 0} and "missing" not in fixed
    assert fixed["deleted"] == 1
    code, out, _ = cli(capsys, "verify", str(folder), "--json")
    assert code == 0
    assert json.loads(out)["reconcile"]["orphaned"] == 0


def test_sync_guard_exit_code_and_message(capsys, configured):
    folder = configured
    cli(capsys, "sync", str(folder))
    for path in list(folder.iterdir())[:-2]:
        path.unlink()
    code, out, _ = cli(capsys, "sync", str(folder))
    assert code == 3
    assert "Nothing was deleted" in out and "--force" in out
    code, out, _ = cli(capsys, "sync", str(folder), "--force", "--json")
    assert code == 0 and json.loads(out)["reconcile"]["deleted"] > 0


def test_retry_failed_reprocesses_dead_letters(capsys, configured, tmp_path):
    folder = configured
    (folder / "broken.png").write_bytes(b"not yet an image")
    code, _, _ = cli(capsys, "ingest", str(folder))
    assert code == 3
    letters = JsonlDeadLetters(tmp_path / "state" / "dead-letters", "mmingest")
    assert [f.uri.rsplit("/", 1)[1] for f in letters.read()] == ["broken.png"]
    code, out, _ = cli(capsys, "retry-failed", str(folder))
    assert code == 3 and "1 failures remain" in out
    (folder / "broken.png").write_bytes(encode(picture("orange"), "PNG"))
    code, out, _ = cli(capsys, "retry-failed", str(folder), "--json")
    assert code == 0
    summary = json.loads(out.split("\n1 objects retried")[0])
    assert (summary["seen"], summary["written"]) == (1, 1)
    assert letters.read() == []


def test_dead_letters_carry_the_tenant_and_retry_failed_keeps_to_its_own(
    capsys, configured, tmp_path
):
    folder = configured
    (folder / "broken.png").write_bytes(b"not yet an image")
    for tenant in ("a", "b"):
        code, _, _ = cli(capsys, "ingest", str(folder), "--tenant", tenant)
        assert code == 3
    letters = JsonlDeadLetters(tmp_path / "state" / "dead-letters", "mmingest")
    assert sorted(f.tenant or "" for f in letters.read()) == ["a", "b"]

    (folder / "broken.png").write_bytes(encode(picture("orange"), "PNG"))
    code, out, _ = cli(capsys, "retry-failed", str(folder), "--tenant", "b")
    assert code == 0 and "1 failures remain" in out
    assert [f.tenant for f in letters.read()] == ["a"]  # tenant a's record is untouched


@pytest.mark.slow
def test_a_backfill_killed_with_sigkill_resumes_without_re_embedding(tmp_path):
    folder = tmp_path / "pics"
    folder.mkdir()
    count = 48
    for index in range(count):
        (folder / f"{index:03d}.png").write_bytes(
            encode(
                picture(("red", "green", "blue")[index % 3], ("circle", "square")[index % 2]), "PNG"
            )
            + index.to_bytes(2, "big")
        )
    with CohereEmulator(api_key="resume-key") as emulator:
        env = {
            **os.environ,
            "MMINGEST_EMBEDDER__KIND": "cohere",
            "MMINGEST_EMBEDDER__API_KEY": "resume-key",
            "MMINGEST_EMBEDDER__BASE_URL": emulator.base_url,
            "MMINGEST_EMBEDDING_CACHE__ENABLED": "false",
            "MMINGEST_STATE_DIR": str(tmp_path / "state"),
            "MMINGEST_INGEST__BATCH_SIZE": "4",
        }
        command = [sys.executable, "-m", "mmingest", "backfill", str(folder), "--json"]
        emulator.delay_next(1000, 0.25)
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 120
        while emulator.counters.requests_served < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        time.sleep(1.0)  # let a request the killed process left in flight finish being counted
        first_run = emulator.counters.inputs_embedded
        assert 0 < first_run < count
        emulator.reset()

        inspect = subprocess.run(
            [sys.executable, "-m", "mmingest", "verify", str(folder), "--json"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        before = json.loads(inspect.stdout)["reconcile"]
        stored_before = count - before["missing"]
        assert 0 < stored_before < count

        resumed = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        assert resumed.returncode == 0, resumed.stderr[-2000:]
        summary = json.loads(resumed.stdout)
        assert summary["unchanged"] == stored_before  # finished batches were not redone
        assert summary["written"] == count - stored_before
        assert emulator.counters.inputs_embedded == count - stored_before

        final = subprocess.run(
            [sys.executable, "-m", "mmingest", "verify", str(folder), "--json"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert final.returncode == 0, final.stdout
        reconcile = json.loads(final.stdout)["reconcile"]
        assert (reconcile["missing"], reconcile["stale"], reconcile["orphaned"]) == (0, 0, 0)
        assert reconcile["in_scope"] == count
