"""The embedding stage inside the pipeline vs the same model called directly.

Both sides get the same decoded images and captions and the same batch size; both include the
model's own preprocessing (the image processor and the tokenizer). The pipeline side is
``mmingest.pipelines.embed.embed_images_and_captions`` over the product's ``ClipEmbedder``
(batching,
retries, bad-input isolation, normalisation), optionally behind the embedding cache (cold).
Rounds alternate which side goes first, so drifting machine load hits both alike.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image

from mmingest.connectors.embedders.cache import cached
from mmingest.connectors.embedders.clip import ClipEmbedder
from mmingest.pipelines.embed import embed_images_and_captions
from mmingest.pipelines.images import fit_image
from mmingest.pipelines.samples import draw, sample_images
from mmingest.schemas.config import ClipEmbedderConfig


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

    Every batch is run by every side back to back, in an order rotated batch by batch, so load
    from other processes lands on all sides alike; a ratio is the median over batches and
    rounds of the direct call's time over the side's time for the same batch. The direct call
    is also timed twice: the ratio of those two (an A/A test) is the measurement's own noise.
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
            # One image per asset, as for plain images (products may bring several views).
            "pipeline": lambda i, c: embed_images_and_captions(embedder, [[x] for x in i], c),
            "pipeline+cache": lambda i, c: embed_images_and_captions(cache, [[x] for x in i], c),
            "direct again": direct,
        }
        # First calls pick kernels for each batch shape: keep that out of every side.
        direct(images, captions)
        times: dict[str, list[float]] = {name: [] for name in sides}
        cpu = dict.fromkeys(sides, 0.0)
        for round_index in range(rounds):
            if round_index:  # every round meets a cold cache
                cache.cache.close()
                cache = cached(embedder, Path(scratch) / f"cache-{round_index}.sqlite3")
            for number, (image_batch, caption_batch) in enumerate(batches):
                names = list(sides)
                shift = (number + round_index) % len(names)
                for name in names[shift:] + names[:shift]:
                    wall, used = time.perf_counter(), time.process_time()
                    sides[name](image_batch, caption_batch)
                    times[name].append(time.perf_counter() - wall)
                    cpu[name] += time.process_time() - used
        cache.cache.close()
    embedder.close()

    def ratio(name: str) -> float:
        paired = [d / t for d, t in zip(times["direct"], times[name], strict=True)]
        return round(statistics.median(paired), 4)

    return {
        "model": "ViT-B/32 CLIP architecture, random weights",
        "device": embedder.device,
        "items": items,
        "batch_size": batch,
        "rounds": rounds,
        "seconds": {name: round(sum(values), 3) for name, values in times.items()},
        "inputs_per_s": {
            name: round(2 * items * rounds / sum(values), 2) for name, values in times.items()
        },
        "ratio": ratio("pipeline"),
        "ratio_with_cache": ratio("pipeline+cache"),
        "noise_a_a": ratio("direct again"),
        "ratio_of_totals": round(sum(times["direct"]) / sum(times["pipeline"]), 4),
        "cpu_ratio": round(cpu["direct"] / cpu["pipeline"], 4),
    }
