"""Storage misbehaving: object storage (503s, dropped connections, slow and truncated
answers) and the local disk (full, removed under the run, unwritable dead letters)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from mmingest.connectors.sources import open_source
from mmingest.connectors.sources.local import LocalFolderSource
from mmingest.connectors.stores.qdrant_edge import QdrantEdgeStore
from mmingest.flows.cli import main
from mmingest.pipelines.ingest import ingest
from mmingest.pipelines.samples import encode, write_images
from mmingest.schemas.config import IngestConfig, QdrantEdgeStoreConfig, S3SourceConfig
from mmingest.schemas.errors import SourceUnavailable, StorageFault
from tests.emulators.faulty_proxy import FaultyProxy, listings
from tests.support.corpus import picture
from tests.support.fakes import HashEmbedder

IMAGES = 12
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def proxied(s3_server):
    bucket = s3_server.new_bucket()
    s3_server.put_many(
        bucket, {f"pics/{i:02d}.png": encode(picture(), "PNG") for i in range(IMAGES)}
    )
    with FaultyProxy(s3_server.endpoint) as proxy:
        config = s3_server.source_config()
        config = config.model_copy(
            update={
                "s3": S3SourceConfig(**{**config.s3.model_dump(), "endpoint": proxy.url}),
                "max_retries": 2,
            }
        )
        yield proxy, open_source(f"s3://{bucket}", config)


def run(source, store):
    return ingest(
        source,
        HashEmbedder(),
        store,
        collection="faults",
        config=IngestConfig(batch_size=5, read_concurrency=4),
    )


def test_transient_503s_and_dropped_connections_are_retried(proxied, edge_store, ledger):
    proxy, source = proxied
    proxy.inject(3, "status", status=503)
    proxy.inject(2, "drop")
    proxy.inject(1, "status", status=500)
    summary = run(source, edge_store)
    ledger.faults(len(proxy.injected))
    ledger.outcome(summary)
    assert len(proxy.injected) == 6
    assert (summary.written, summary.failed) == (IMAGES, 0)
    assert edge_store.count("faults") == IMAGES


def test_an_object_that_keeps_failing_is_dead_lettered_alone(proxied, edge_store, ledger):
    proxy, source = proxied
    proxy.always("status", lambda method, path: path.endswith("/pics/07.png"), status=503)
    summary = run(source, edge_store)
    ledger.faults(len(proxy.injected))
    ledger.outcome(summary)
    assert (summary.written, summary.failed) == (IMAGES - 1, 1)
    (failure,) = summary.failures
    assert failure.uri.endswith("pics/07.png")
    assert failure.reason == "source_unavailable"
    assert "503" in failure.message
    proxy.clear()
    again = run(source, edge_store)  # the next run completes it, nothing duplicated
    ledger.outcome(again)
    assert (again.written, again.unchanged) == (1, IMAGES - 1)
    assert edge_store.count("faults") == IMAGES


def test_a_listing_that_cannot_be_read_stops_the_run_clearly(proxied, edge_store, ledger):
    proxy, source = proxied
    proxy.always("status", listings, status=503)
    with pytest.raises(SourceUnavailable, match="listing s3://"):
        run(source, edge_store)
    ledger.faults(len(proxy.injected))
    proxy.clear()
    proxy.always("truncate", listings)
    with pytest.raises(SourceUnavailable, match="listing"):
        run(source, edge_store)
    ledger.faults(len(proxy.injected))


# --- local storage: a full disk, a failed flush, an unwritable dead-letter file -------------


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mmingest", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=240,
    )


@pytest.fixture
def cli_env(tiny_clip_dir, tmp_path):
    folder = tmp_path / "pics"
    write_images(folder, 6)
    env = {
        "MMINGEST_EMBEDDER__MODEL": str(tiny_clip_dir),
        "MMINGEST_STATE_DIR": str(tmp_path / "state"),
        "MMINGEST_EMBEDDING_CACHE__ENABLED": "false",
    }
    return env, folder


@pytest.fixture
def _exit_stack() -> Iterator[ExitStack]:
    with ExitStack() as stack:
        yield stack


def _fill(path: Path) -> None:
    with path.open("wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass


@contextmanager
def _tmpfs(mount_point: Path, options: str) -> Iterator[Path]:
    """A tmpfs mounted with ``options`` (needs root; the test is skipped elsewhere)."""
    mount_point.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mount_point)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


@pytest.fixture
def small_disk(tmp_path):
    """An 8 MiB disk (a tmpfs), too small for a store."""
    with _tmpfs(tmp_path / "small-disk", "size=8m") as mount_point:
        yield mount_point


def test_a_full_disk_stops_the_run_with_one_line_not_sigbus(cli_env, small_disk):
    env, folder = cli_env
    env = {**env, "MMINGEST_STORE__PATH": str(small_disk / "store")}
    result = _cli(env, "ingest", str(folder), "--json")
    assert result.returncode == 1, result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if line.startswith("mmingest:")]
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert str(small_disk / "store") in lines[0] and "free" in lines[0]
    assert "min_free_mb" in lines[0]


def test_a_failed_flush_at_close_fails_loudly(tmp_path):
    folder = tmp_path / "pics"
    write_images(folder, 6)
    path = tmp_path / "store"
    store = QdrantEdgeStore(QdrantEdgeStoreConfig(path=path))
    summary = ingest(LocalFolderSource(folder), HashEmbedder(), store, collection="c")
    assert summary.written == 6
    shutil.rmtree(path)  # the state directory removed under a running process
    with pytest.raises(StorageFault, match=str(path)) as raised:
        store.close()
    assert "not durable" in raised.value.message


def test_a_failed_flush_is_a_failed_cli_run(cli_env, tmp_path, monkeypatch, capsys):
    env, folder = cli_env
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    store_dir = tmp_path / "state" / "qdrant-edge"
    real_close = QdrantEdgeStore.close

    def close_after_losing_the_directory(self):
        shutil.rmtree(store_dir)
        real_close(self)

    monkeypatch.setattr(QdrantEdgeStore, "close", close_after_losing_the_directory)
    with pytest.raises(SystemExit) as exited:
        main(["ingest", str(folder), "--json"])
    captured = capsys.readouterr()
    assert exited.value.code == 1
    assert '"written"' not in captured.out  # nothing is reported as written
    assert str(store_dir) in captured.err


@pytest.mark.parametrize("fault", ["directory", "read-only", "full"])
def test_an_unwritable_dead_letter_file_is_one_line_naming_it(cli_env, tmp_path, fault, request):
    env, folder = cli_env
    (folder / "broken.png").write_bytes(b"not an image")
    if fault == "directory":
        letters = tmp_path / "state" / "dead-letters" / "mmingest.jsonl"
        letters.mkdir(parents=True)
        cause = "directory"
    elif fault == "read-only":
        folder_of_letters = request.getfixturevalue("tmp_path") / "state" / "dead-letters"
        stack = request.getfixturevalue("_exit_stack")
        stack.enter_context(_tmpfs(folder_of_letters, "size=1m,ro"))
        letters = folder_of_letters / "mmingest.jsonl"
        cause = "Read-only"
    else:
        disk = request.getfixturevalue("small_disk")
        letters = disk / "state" / "dead-letters" / "mmingest.jsonl"
        letters.parent.mkdir(parents=True)
        _fill(disk / "ballast")
        env = {
            **env,
            "MMINGEST_STATE_DIR": str(disk / "state"),
            "MMINGEST_STORE__PATH": str(tmp_path / "store"),
        }
        cause = "No space left"
    result = _cli(env, "ingest", str(folder))
    assert result.returncode not in (0, 3), result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("mmingest:")]
    assert len(lines) == 1 and str(letters) in lines[0] and cause in lines[0]
