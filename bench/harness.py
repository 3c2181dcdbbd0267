"""Shared benchmark plumbing: results with goals, machine facts, JSON and Markdown output."""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Measurement:
    """One figure of a scenario, with its goal when it has one."""

    scenario: str
    name: str
    value: float
    unit: str = "ratio"
    goal: str | None = None
    met: bool | None = None
    details: dict[str, Any] = field(default_factory=dict)


def goal_at_least(value: float, bound: float) -> tuple[str, bool]:
    """A ``>= bound`` goal and whether ``value`` meets it."""
    return f">= {bound:g}", value >= bound


def goal_at_most(value: float, bound: float) -> tuple[str, bool]:
    """A ``<= bound`` goal and whether ``value`` meets it."""
    return f"<= {bound:g}", value <= bound


def torch_version() -> str | None:
    """The installed torch version (read from package metadata: torch is not imported)."""
    try:
        return metadata.version("torch")
    except metadata.PackageNotFoundError:
        return None


def machine() -> dict[str, Any]:
    """Facts that explain absolute numbers: cores, CPU, Python, torch, load."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            cpu = next(
                (line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")),
                cpu,
            )
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "python": sys.version.split()[0],
        "torch": torch_version(),
        "platform": platform.platform(),
        "load_1m": round(load[0], 2),
    }


def best_of(function: Callable[[], float], repeats: int) -> float:
    """The best of ``repeats`` measurements (the least disturbed by a noisy machine)."""
    return max(function() for _ in range(repeats))


def median_of(values: list[float]) -> float:
    """The median."""
    return statistics.median(values)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(function: Callable[[], Any]) -> float:
    """Wall seconds of one call."""
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def format_value(m: Measurement) -> str:
    """A figure as the table shows it: ratios to three decimals, others with their unit."""
    return f"{m.value:.3f}" if m.unit == "ratio" else f"{m.value:,.2f} {m.unit}"


def setup_of(m: Measurement) -> str:
    """The model and batch size a figure was measured with (from its details)."""
    parts = [str(m.details[key]) for key in ("model", "batch_size") if key in m.details]
    if "batch_size" in m.details:
        parts[-1] = f"batch {parts[-1]}"
    return ", ".join(parts)


def markdown(measurements: list[Measurement], *, setup: bool = False) -> str:
    """The results as a Markdown table (``setup``: with a model / batch size column)."""
    header = "| scenario | figure | value | goal | met |"
    if setup:
        header += " model, batch |"
    lines = [header, "|---" * header.count(" |") + "|"]
    for m in measurements:
        met = "" if m.met is None else ("yes" if m.met else "**no**")
        row = f"| {m.scenario} | {m.name} | {format_value(m)} | {m.goal or ''} | {met} |"
        if setup:
            row += f" {setup_of(m)} |"
        lines.append(row)
    return "\n".join(lines)


def write(
    measurements: list[Measurement],
    *,
    quick: bool,
    name: str = "latest",
    setup: bool = False,
    extra: dict[str, Any] | None = None,
    directory: Path | None = None,
) -> Path:
    """Write JSON and Markdown results under ``bench/results/``; returns the JSON path."""
    directory = directory or RESULTS
    directory.mkdir(parents=True, exist_ok=True)
    document = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": quick,
        **(extra or {}),
        "machine": machine(),
        "measurements": [asdict(m) for m in measurements],
    }
    path = directory / f"{name}.json"
    path.write_text(json.dumps(document, indent=2, default=str), encoding="utf-8")
    table = markdown(measurements, setup=setup)
    facts = ", ".join(f"{k}: {v}" for k, v in document["machine"].items())
    (directory / f"{name}.md").write_text(f"{table}\n\n{facts}\n", encoding="utf-8")
    return path
