"""Memory: the pipeline's peak RSS at 100,000 product records as a ratio to 10,000.

Each size runs ``python -m tests.support.load ROWS WORKDIR counting`` in its own process (the
same run the load test uses), so a peak is that ingestion's alone. The ``counting`` store keeps
nothing, which isolates the pipeline's memory from the embedded store's (Qdrant Edge keeps its
appendable segments in RAM). Goal: ratio <= 1.2 (memory does not grow with the catalog).
``--quick`` uses 2,000 and 20,000 records.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.harness import Measurement, goal_at_most

ROOT = Path(__file__).resolve().parents[1]
GOAL = 1.2


def ingest_in_a_process(rows: int, workdir: Path, store: str = "counting") -> dict[str, Any]:
    """The load run's report (rows, written, seconds, peak_rss_mb) from a fresh process."""
    result = subprocess.run(
        [sys.executable, "-m", "tests.support.load", str(rows), str(workdir), store],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"load run of {rows} rows failed: {result.stderr[-2000:]}")
    report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    if report["written"] != rows or report["failed"]:
        raise RuntimeError(f"load run wrote {report['written']} of {rows} rows")
    return report


def run(quick: bool) -> list[Measurement]:
    """Both sizes, one process each."""
    small, large = (2_000, 20_000) if quick else (10_000, 100_000)
    with tempfile.TemporaryDirectory(prefix="mmingest-bench-") as scratch:
        low = ingest_in_a_process(small, Path(scratch) / "small")
        high = ingest_in_a_process(large, Path(scratch) / "large")
    ratio = high["peak_rss_mb"] / low["peak_rss_mb"]
    goal, met = goal_at_most(ratio, GOAL)
    return [
        Measurement(
            "memory",
            f"pipeline peak RSS, {large:,} / {small:,} records",
            ratio,
            goal=goal,
            met=met,
            details={
                "model": "none (hash embedder, 64-d)",
                "batch_size": 512,
                "store": "counting (keeps nothing)",
                f"peak_rss_mb_{small}": round(low["peak_rss_mb"], 1),
                f"peak_rss_mb_{large}": round(high["peak_rss_mb"], 1),
                f"seconds_{small}": round(low["seconds"], 1),
                f"seconds_{large}": round(high["seconds"], 1),
            },
        )
    ]
