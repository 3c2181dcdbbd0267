"""Load: 100,000 product records end to end, and the pipeline's memory stays flat."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def ingest_in_a_process(rows: int, workdir: Path, store: str) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, "-m", "tests.support.load", str(rows), str(workdir), store],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_100k_records_land_in_the_embedded_store(tmp_path):
    report = ingest_in_a_process(100_000, tmp_path, "edge")
    assert (report["written"], report["stored"], report["failed"]) == (100_000, 100_000, 0)
    print(
        f"\n100k products into Qdrant Edge: {report['seconds']:.1f} s, "
        f"peak RSS {report['peak_rss_mb']:.0f} MiB"
    )


@pytest.mark.slow
def test_pipeline_memory_does_not_grow_with_the_catalog(tmp_path):
    small = ingest_in_a_process(10_000, tmp_path / "small", "counting")
    large = ingest_in_a_process(100_000, tmp_path / "large", "counting")
    assert small["written"] == 10_000 and large["written"] == 100_000
    ratio = large["peak_rss_mb"] / small["peak_rss_mb"]
    print(
        f"\npipeline peak RSS: {small['peak_rss_mb']:.0f} MiB at 10k, "
        f"{large['peak_rss_mb']:.0f} MiB at 100k (ratio {ratio:.2f})"
    )
    assert ratio <= 1.2
