"""The bare model on each runtime and precision, side by side: speed and quality gate.

Every configuration (torch fp32 and bf16; onnx fp32 and int8; openvino fp32, bf16 and int8)
runs the same full-size ViT-B/32 CLIP (random weights) on the same pre-processed inputs: one
batch of images and one of captions, in rounds whose order rotates so machine load lands on
all alike. Speed is items/s of image + caption, ``1 / (1 / images_per_s + 1 / captions_per_s)``,
as a ratio to torch fp32 in the same rounds; goal >= 3 for the fastest configuration that
passes the quality gate. Each configuration also gets the product's quality gate figures
(:mod:`mmingest.connectors.embedders.clip.gate`) and a text-query latency p50 (tokenise + run
one short text, as a search does). The fastest passing configuration is remembered for the
``end-to-end-fastest`` scenario.
"""

from __future__ import annotations

import functools
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness import Measurement, goal_at_least
from mmingest.connectors.embedders.clip import calibration, gate
from mmingest.connectors.embedders.clip.towers import Towers
from mmingest.schemas.errors import ConfigError

GOAL = 3.0
MODEL = "ViT-B/32 CLIP (random weights)"
CONFIGURATIONS = (
    ("torch", "fp32"),
    ("torch", "bf16"),
    ("onnx", "fp32"),
    ("onnx", "int8"),
    ("openvino", "fp32"),
    ("openvino", "bf16"),
    ("openvino", "int8"),
)


@dataclass(frozen=True)
class Sizes:
    """Batch, timing rounds, query repetitions and the gate's size."""

    batch: int
    rounds: int
    queries: int
    gate_queries: int
    gate_collection: int


QUICK = Sizes(batch=16, rounds=2, queries=10, gate_queries=20, gate_collection=200)
FULL = Sizes(
    batch=32, rounds=4, queries=40, gate_queries=gate.QUERIES, gate_collection=gate.COLLECTION
)

fastest: dict[str, str] = {}
"""The fastest configuration that passed the gate in this process: runtime, precision."""


@functools.cache
def export_dir() -> Path:
    """One export cache for every scenario of this process (removed at exit)."""
    import atexit

    scratch = Path(tempfile.mkdtemp(prefix="mmingest-bench-exports-"))
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    return scratch


def _torch(model: Path, precision: str, batch: int) -> Any:
    from mmingest.connectors.embedders.clip import ClipEmbedder
    from mmingest.schemas.config import ClipEmbedderConfig

    config = ClipEmbedderConfig(model=str(model), batch_size=batch, precision=precision)  # type: ignore[arg-type]
    return ClipEmbedder(config)


def _limit(images_per_s: float, captions_per_s: float) -> float:
    return 1 / (1 / images_per_s + 1 / captions_per_s)


def _time(run: Any, inputs: Any) -> float:
    started = time.perf_counter()
    run(inputs)
    return time.perf_counter() - started


def run(quick: bool) -> list[Measurement]:
    """Every configuration that runs here, timed side by side, with its gate figures."""
    from bench.images import model_dir

    sizes = QUICK if quick else FULL
    model = model_dir()
    from mmingest.connectors.embedders.clip.runtimes import Runtimes

    reference_embedder = _torch(model, "fp32", sizes.batch)
    preprocessor = reference_embedder.preprocessor
    # Exported without the gate's verdict applied: the bench reports configurations below it.
    exporter = Runtimes(
        reference_embedder._model, preprocessor, root=export_dir(), batch=sizes.batch
    )
    images = preprocessor.images(calibration.images(sizes.batch, seed=7))
    captions = preprocessor.texts(calibration.captions(sizes.batch, seed=7))
    loaded: dict[str, Towers] = {}
    skipped: dict[str, str] = {}
    folders: dict[str, Path] = {}
    others = []
    for runtime, precision in CONFIGURATIONS:
        label = f"{runtime} {precision}"
        try:
            if runtime != "torch":
                loaded[label], folders[label] = exporter.exported(runtime, precision)
            elif precision == "fp32":
                loaded[label] = reference_embedder.towers
            else:
                others.append(_torch(model, precision, sizes.batch))
                loaded[label] = others[-1].towers
        except ConfigError as error:  # a missing package or a precision this CPU lacks
            skipped[label] = str(error)
    # Gate figures (before timing: they also warm every input shape up). At the product's
    # sizes, through the product's own Runtimes, so the verdicts are kept with the exports
    # and the end-to-end-fastest scenario's embedder finds them instead of re-measuring.
    figures: dict[str, gate.GateFigures] = {}
    product_sizes = (sizes.gate_queries, sizes.gate_collection) == (gate.QUERIES, gate.COLLECTION)
    if product_sizes:
        reference = exporter.reference()
    else:
        reference = gate.embed_gate_set(
            loaded["torch fp32"],
            preprocessor,
            batch=sizes.batch,
            queries=sizes.gate_queries,
            collection=sizes.gate_collection,
        )
    for label, towers in loaded.items():
        runtime, precision = label.split()
        if product_sizes and runtime != "torch":
            figures[label] = exporter.measure_gate(towers, folders[label], precision)
            continue
        candidate = gate.embed_gate_set(
            towers,
            preprocessor,
            batch=sizes.batch,
            queries=sizes.gate_queries,
            collection=sizes.gate_collection,
        )
        figures[label] = gate.compare(reference, candidate, label=label, precision=precision)
    image_s: dict[str, list[float]] = {label: [] for label in loaded}
    caption_s: dict[str, list[float]] = {label: [] for label in loaded}
    labels = list(loaded)
    for round_index in range(sizes.rounds):
        shift = round_index % len(labels)
        for label in labels[shift:] + labels[:shift]:
            towers = loaded[label]
            image_s[label].append(_time(towers.image, images))
            caption_s[label].append(_time(towers.text, captions))
    latency: dict[str, float] = {}
    queries = calibration.captions(sizes.queries, seed=11)
    for label, towers in loaded.items():
        samples = []
        for text in queries:
            started = time.perf_counter()
            towers.text(preprocessor.texts([text]))
            samples.append(time.perf_counter() - started)
        latency[label] = statistics.median(samples[1:]) * 1000
    for embedder in [reference_embedder, *others]:
        embedder.close()
    rates = {
        label: (
            sizes.batch / statistics.median(image_s[label]),
            sizes.batch / statistics.median(caption_s[label]),
        )
        for label in loaded
    }
    base = _limit(*rates["torch fp32"])
    speed = {label: _limit(*rate) / base for label, rate in rates.items()}
    passing = [label for label in loaded if figures[label].passed]
    best = max(passing, key=lambda label: speed[label])
    fastest.update(zip(("runtime", "precision"), best.split(), strict=True))
    results = []
    for label in loaded:
        is_best = label == best
        goal, met = goal_at_least(speed[label], GOAL) if is_best else (None, None)
        figure = figures[label]
        details = {
            "model": MODEL,
            "batch_size": sizes.batch,
            "images_per_s": round(rates[label][0], 2),
            "captions_per_s": round(rates[label][1], 2),
            "items_per_s": round(_limit(*rates[label]), 2),
            "rounds": sizes.rounds,
            "gate": figure.as_dict(),
            "text_query_p50_ms": round(latency[label], 2),
        }
        results.append(
            Measurement(
                "runtimes",
                f"{label}: bare model items/s / torch fp32"
                + (" (fastest passing the gate)" if is_best else "")
                + ("" if figure.passed else " (below the gate)"),
                speed[label],
                unit="x",
                goal=goal,
                met=met,
                details=details,
            )
        )
        results.append(
            Measurement(
                "runtimes",
                f"{label}: gate, min cosine to torch fp32",
                figure.cosine_min,
                goal=f">= {figure.cosine_goal:g}",
                met=figure.cosine_min >= figure.cosine_goal,
                details={"model": MODEL, "batch_size": sizes.batch, **figure.as_dict()},
            )
        )
        results.append(
            Measurement(
                "runtimes",
                f"{label}: gate, top-{gate.NEIGHBOURS} overlap "
                f"({figure.images} queries, {figure.captions} items)",
                figure.overlap_at_10,
                goal=f">= {gate.OVERLAP_GOAL:g}",
                met=figure.overlap_at_10 >= gate.OVERLAP_GOAL,
                details={"model": MODEL, "batch_size": sizes.batch, **figure.as_dict()},
            )
        )
        results.append(
            Measurement(
                "runtimes",
                f"{label}: text-query embedding latency p50",
                latency[label],
                unit="ms",
                details={"model": MODEL, "batch_size": 1},
            )
        )
    for label, why in skipped.items():
        results.append(Measurement("runtimes", f"{label}: not run here: {why}"[:200], float("nan")))
    return results
