"""The embedding stage inside the pipeline vs the same model called directly.

Both sides get the same decoded images and captions and the same batch size; both include the
model's own preprocessing (the image processor and the tokenizer). The pipeline side is
``pipelines.embed.embed_images_and_captions`` over the product's ``ClipEmbedder`` (batching,
retries, bad-input isolation, normalisation), optionally behind the embedding cache (cold).
Rounds alternate which side goes first, so drifting machine load hits both alike.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image

from connectors.embedders.cache import cached
from connectors.embedders.clip import ClipEmbedder
from pipelines.embed import embed_images_and_captions
from pipelines.images import fit_image
from pipelines.samples import draw, sample_images
from schemas.config import ClipEmbedderConfig


def _inputs(count: int, limits: Any) -> tuple[list[Image.Image], list[str]]:
    samples = sample_images(count)
    # As the pipeline hands them over: decoded, then fitted to the model's input side.
    images = [fit_image(draw(sample, (640, 480)), limits) for sample in samples]
    return images, [sample.caption for sample in samples]


def _direct(embedder: ClipEmbedder, batch: int) -> Callable[[list[Image.Image], list[str]], None]:
    """The bare model: processor + get_*_features per batch, as a user would call it."""
    import torch

    model = embedder._model
    image_processor, tokenizer = embedder._image_processor, embedder._tokenizer
    max_length = embedder.info.limits.max_text_tokens

    def run(images: list[Image.Image], captions: list[str]) -> None:
        with torch.inference_mode():
            for start in range(0, len(images), batch):
                pixels = image_processor(images=images[start : start + batch], return_tensors="pt")
                model.get_image_features(**pixels)
            for start in range(0, len(captions), batch):
                tokens = tokenizer(
                    captions[start : start + batch],
                    padding=True,
                    truncation=True,
                    max_length=max_length,
                    return_tensors="pt",
                )
                model.get_text_features(**tokens)

    return run


def measure(model_dir: Path, *, items: int, batch: int, rounds: int) -> dict[str, Any]:
    """Seconds per side and the throughput ratios.

    Sides alternate batch by batch (and which goes first alternates too), so load from other
    processes lands on both sides alike. The ratio compares, batch by batch, the fastest of
    ``rounds`` runs of each side: interference only ever adds time, so the minimum is the
    steadiest estimate on a shared machine. Totals over all rounds are reported beside it.
    """
    embedder = ClipEmbedder(ClipEmbedderConfig(model=str(model_dir), batch_size=batch))
    images, captions = _inputs(items, embedder.info.limits)
    batches = [
        (images[i : i + batch], captions[i : i + batch]) for i in range(0, len(images), batch)
    ]
    direct = _direct(embedder, batch)
    with tempfile.TemporaryDirectory() as scratch:
        cache = cached(embedder, Path(scratch) / "cache.sqlite3")
        sides: dict[str, Callable[[list[Image.Image], list[str]], object]] = {
            "direct": direct,
            "pipeline": lambda i, c: embed_images_and_captions(embedder, i, c),
            "pipeline+cache": lambda i, c: embed_images_and_captions(cache, i, c),
        }
        # First calls pick kernels for each batch shape: keep that out of every side.
        direct(images, captions)
        totals = dict.fromkeys(sides, 0.0)
        cpu = dict.fromkeys(sides, 0.0)
        best = {name: [float("inf")] * len(batches) for name in sides}
        for round_index in range(rounds):
            if round_index:  # every round meets a cold cache
                cache.cache.close()
                cache = cached(embedder, Path(scratch) / f"cache-{round_index}.sqlite3")
            for number, (image_batch, caption_batch) in enumerate(batches):
                order = list(sides)
                if (number + round_index) % 2:
                    order.reverse()
                for name in order:
                    wall, used = time.perf_counter(), time.process_time()
                    sides[name](image_batch, caption_batch)
                    took = time.perf_counter() - wall
                    totals[name] += took
                    cpu[name] += time.process_time() - used
                    best[name][number] = min(best[name][number], took)
        cache.cache.close()
    embedder.close()
    inputs = 2 * items * rounds
    fastest = {name: sum(times) for name, times in best.items()}
    return {
        "model": "ViT-B/32 CLIP architecture, random weights",
        "device": embedder.device,
        "items": items,
        "batch_size": batch,
        "rounds": rounds,
        "seconds": {name: round(value, 3) for name, value in totals.items()},
        "cpu_seconds": {name: round(value, 3) for name, value in cpu.items()},
        "inputs_per_s": {name: round(2 * items / value, 2) for name, value in fastest.items()},
        "ratio": round(fastest["direct"] / fastest["pipeline"], 4),
        "ratio_with_cache": round(fastest["direct"] / fastest["pipeline+cache"], 4),
        "ratio_of_totals": round(totals["direct"] / totals["pipeline"], 4),
        "cpu_ratio": round(cpu["direct"] / cpu["pipeline"], 4),
        "mean_inputs_per_s": {name: round(inputs / value, 2) for name, value in totals.items()},
    }
