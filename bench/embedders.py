"""Embedder benchmarks: ``python -m bench.embedders [--quick]`` prints a table, writes JSON.

(a) The embedding stage inside the pipeline (``ClipEmbedder`` + ``pipelines/embed.py``) as a
    ratio to calling the same full-size ViT-B/32 CLIP (random weights, CPU) directly with the
    same batch size. Goal >= 0.95.
(b) Against a Cohere emulator enforcing N requests per window, the fraction of that quota a
    whole ingestion run sustains, with zero dropped objects. Goal >= 0.95.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import clip_stage, quota

RESULTS = Path(__file__).resolve().parent / "results"
GOAL = 0.95


def _machine() -> dict[str, Any]:
    import torch

    return {
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "platform": platform.platform(),
    }


def _table(clip: dict[str, Any], runs: list[dict[str, Any]]) -> str:
    rows = [
        ("scenario", "measured", "goal", "detail"),
        (
            "(a) pipeline / direct, ViT-B/32",
            f"{clip['ratio']:.3f}",
            f">= {GOAL}",
            f"{clip['inputs_per_s']['pipeline']} vs {clip['inputs_per_s']['direct']} inputs/s; "
            f"direct vs itself (noise) {clip['noise_a_a']:.3f}; batch {clip['batch_size']}, "
            f"{clip['items']} images + captions x {clip['rounds']}",
        ),
        (
            "(a') same, behind a cold cache",
            f"{clip['ratio_with_cache']:.3f}",
            "-",
            f"{clip['inputs_per_s']['pipeline+cache']} inputs/s",
        ),
    ]
    for run in runs:
        label = "client quota on" if run["client_quota"] else "client quota off"
        rows.append(
            (
                f"(b) quota sustained, {label}",
                f"{run['sustained_fraction']:.3f}",
                f">= {GOAL}, 0 dropped" if run["client_quota"] else "-",
                f"{run['quota']}: {run['requests_served']} requests in {run['seconds']} s "
                f"({run['sustained_per_window']} per window sustained), "
                f"{run['refused_429']} refused (429), {run['written']}/{run['objects']} "
                f"written, {run['failed']} failed",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [" | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) for row in rows]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Run both benchmarks, print the table and write the JSON next to this module."""
    parser = argparse.ArgumentParser(prog="python -m bench.embedders")
    parser.add_argument("--quick", action="store_true", help="smoke run (about a minute)")
    parser.add_argument("--out", type=Path, default=None, help="JSON file to write")
    args = parser.parse_args(argv)
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    logging.basicConfig(level=logging.ERROR)  # retries after a 429 are expected without a quota
    from tests.support.models import build_vit_b_32

    started = time.monotonic()
    scratch = Path(tempfile.mkdtemp(prefix="mmingest-bench-"))
    try:
        model = build_vit_b_32(scratch / "vit-b-32")
        if args.quick:
            clip = clip_stage.measure(model, items=32, batch=16, rounds=3)
            runs = quota.measure(quota=20, window_s=4.0, windows=3)
        else:
            clip = clip_stage.measure(model, items=96, batch=32, rounds=4)
            runs = quota.measure(quota=60, window_s=60.0, windows=3)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    report = {
        "benchmark": "embedders",
        "quick": args.quick,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": _machine(),
        "clip_stage": clip,
        "quota": runs,
        "goals": {
            "clip_ratio": clip["ratio"] >= GOAL,
            "quota_fraction": runs[0]["sustained_fraction"] >= GOAL and runs[0]["failed"] == 0,
        },
        "elapsed_s": round(time.monotonic() - started, 1),
    }
    print(_table(clip, runs))
    print(f"machine: {report['machine']['cores']} cores, torch {report['machine']['torch']}")
    out = args.out or RESULTS / f"embedders-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out} ({report['elapsed_s']} s)")


if __name__ == "__main__":
    main()
