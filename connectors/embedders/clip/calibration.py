"""Deterministic images and captions for the quality gate and for int8 calibration.

Generated, not shipped: textured pictures (gradients, noise, shapes) and captions composed
from small word lists. Different seeds give the gate set and the calibration set, so a
quantised model is never judged on the data it was calibrated with.
"""

from __future__ import annotations

import itertools

import numpy as np
from PIL import Image, ImageDraw

GATE_SEED = 15
CALIBRATION_SEED = 51

_ADJECTIVES = (
    "red", "green", "blue", "yellow", "purple", "orange", "black", "white", "striped", "spotted",
    "wooden", "metal", "glass", "old", "new", "small", "large", "shiny", "dusty", "bright",
)  # fmt: skip
_OBJECTS = (
    "chair", "lamp", "bicycle", "teapot", "shoe", "backpack", "guitar", "clock", "vase", "car",
    "dog", "cat", "tree", "house", "boat", "camera", "table", "sofa", "mug", "kite",
)  # fmt: skip
_PLACES = (
    "on a beach", "in a kitchen", "on a shelf", "in the snow", "at night", "in a garden",
    "on a white background", "in a forest", "on a street", "in a studio",
)  # fmt: skip


def captions(count: int, *, seed: int = GATE_SEED) -> list[str]:
    """``count`` distinct captions ("a striped teapot on a shelf"), shuffled by ``seed``."""
    combos = [
        f"a {adjective} {thing} {place}"
        for adjective, thing, place in itertools.product(_ADJECTIVES, _OBJECTS, _PLACES)
    ]
    if count > len(combos):
        raise ValueError(f"at most {len(combos)} distinct captions, asked for {count}")
    order = np.random.default_rng(seed).permutation(len(combos))[:count]
    return [combos[int(i)] for i in order]


def images(
    count: int, *, seed: int = GATE_SEED, size: tuple[int, int] = (256, 192)
) -> list[Image.Image]:
    """``count`` RGB pictures: a colour gradient, pixel noise and a few filled shapes each."""
    rng = np.random.default_rng(seed)
    width, height = size
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    result = []
    for _ in range(count):
        start, end = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
        angle = rng.uniform(0, np.pi)
        t = (np.cos(angle) * xs / width + np.sin(angle) * ys / height).clip(0, 1)[..., None]
        pixels = start * (1 - t) + end * t + rng.normal(0, rng.uniform(2, 30), (height, width, 3))
        picture = Image.fromarray(pixels.clip(0, 255).astype(np.uint8), "RGB")
        canvas = ImageDraw.Draw(picture)
        for _ in range(int(rng.integers(1, 5))):
            x0, y0 = rng.uniform(0, width * 0.7), rng.uniform(0, height * 0.7)
            box = (x0, y0, x0 + rng.uniform(10, width * 0.5), y0 + rng.uniform(10, height * 0.5))
            fill = tuple(int(v) for v in rng.integers(0, 256, 3))
            (canvas.ellipse if rng.random() < 0.5 else canvas.rectangle)(box, fill=fill)
        result.append(picture)
    return result
