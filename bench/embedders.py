"""Embedder benchmarks: ``python -m bench.embedders [--quick]``.

(a) The embedding stage inside the pipeline (``ClipEmbedder`` + ``pipelines/embed.py``) as a
    ratio to calling the same full-size ViT-B/32 CLIP (random weights, CPU) directly with the
    same batch size. Goal >= 0.95.
(b) Against a Cohere emulator enforcing N requests per window, the fraction of that quota a
    whole ingestion run sustains, with zero dropped objects and no 429. Goal >= 0.95.

Prints a Markdown table and writes ``bench/results/embedders.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from bench import clip_stage, quota
from bench.harness import Measurement, goal_at_least, goal_at_most, markdown, write

SCENARIO = "embedders"
GOAL = 0.95


def _clip(result: dict[str, Any]) -> list[Measurement]:
    ratio = float(result["ratio"])
    goal, met = goal_at_least(ratio, GOAL)
    return [
        Measurement(
            SCENARIO,
            "embedding stage: pipeline / direct model, ViT-B/32",
            ratio,
            goal=goal,
            met=met,
            details=result,
        ),
        Measurement(
            SCENARIO, "same, behind a cold embedding cache", float(result["ratio_with_cache"])
        ),
        Measurement(
            SCENARIO, "direct model / itself (the measurement's noise)", float(result["noise_a_a"])
        ),
    ]


def _quota(runs: list[dict[str, Any]]) -> list[Measurement]:
    limited, unlimited = runs
    fraction = float(limited["sustained_fraction"])
    goal, met = goal_at_least(fraction, GOAL)
    refused = float(limited["refused_429"])
    dropped = float(limited["failed"]) + float(limited["objects"]) - float(limited["written"])
    return [
        Measurement(
            SCENARIO,
            "quota sustained, client quota on",
            fraction,
            goal=goal,
            met=met,
            details=limited,
        ),
        Measurement(
            SCENARIO,
            "429s received, client quota on",
            refused,
            unit="requests",
            goal=goal_at_most(refused, 0)[0],
            met=refused == 0,
        ),
        Measurement(
            SCENARIO,
            "objects dropped, client quota on",
            dropped,
            unit="objects",
            goal=goal_at_most(dropped, 0)[0],
            met=dropped == 0,
        ),
        Measurement(
            SCENARIO,
            "quota sustained, client quota off (429 + Retry-After)",
            float(unlimited["sustained_fraction"]),
            details=unlimited,
        ),
    ]


def run(quick: bool) -> list[Measurement]:
    """Build the model, run both scenarios, return the measurements."""
    from tests.support.models import build_vit_b_32

    scratch = Path(tempfile.mkdtemp(prefix="mmingest-bench-"))
    try:
        model = build_vit_b_32(scratch / "vit-b-32")
        if quick:
            clip = clip_stage.measure(model, items=32, batch=16, rounds=3)
            runs = quota.measure(quota=20, window_s=4.0, windows=3)
        else:
            clip = clip_stage.measure(model, items=96, batch=32, rounds=4)
            runs = quota.measure(quota=60, window_s=60.0, windows=3)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return _clip(clip) + _quota(runs)


def main() -> None:
    """``python -m bench.embedders [--quick]``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smoke run (about a minute)")
    quick = parser.parse_args().quick
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    logging.basicConfig(level=logging.ERROR)  # retries after a 429 are expected without a quota
    results = run(quick)
    print(markdown(results))
    for measurement in results:
        detail = measurement.details
        if "inputs_per_s" in detail:
            print(
                f"- ViT-B/32, batch {detail['batch_size']}, {detail['items']} images + captions "
                f"x {detail['rounds']}: inputs/s {detail['inputs_per_s']}"
            )
        if "quota" in detail:
            print(
                f"- {detail['quota']}: {detail['requests_served']} requests in "
                f"{detail['seconds']} s, {detail['refused_429']} refused, "
                f"{detail['written']}/{detail['objects']} written "
                f"(client quota {'on' if detail['client_quota'] else 'off'})"
            )
    print(f"wrote {write(results, quick=quick, name=SCENARIO)}")


if __name__ == "__main__":
    main()
