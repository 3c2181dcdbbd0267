"""The quality gate: does a runtime and precision give the torch float32 model's vectors?

Two figures, both against torch float32 on the same checkpoint:

- per-vector cosine between the candidate's and the reference's normalised vectors, over a
  fixed set of generated images and captions (goal >= 0.999 for fp32 / bf16, >= 0.99 for int8);
- top-10 neighbour overlap: 100 image queries over a collection of 2,000 captions, the mean
  fraction of each query's 10 nearest captions that both agree on (goal >= 0.95).

Also reported, not gated: the cosine after removing the reference set's mean vector (the
"centred" cosine) and the reference set's mean pairwise cosine (its spread). A model whose
vectors all point the same way (random weights do) passes a raw cosine test whatever the
runtime does to the part that tells items apart; the centred cosine and the neighbour overlap
(which only depends on differences between items) do not have that blind spot.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from mmingest.connectors.embedders.clip import calibration
from mmingest.connectors.embedders.clip.preprocess import Preprocessor
from mmingest.connectors.embedders.clip.towers import Arrays, Towers

Matrix = npt.NDArray[np.float32]

COSINE_GOAL = {"fp32": 0.999, "bf16": 0.999, "fp16": 0.999, "int8": 0.99}
OVERLAP_GOAL = 0.95
NEIGHBOURS = 10
COLLECTION = 2000
QUERIES = 100


@dataclass(frozen=True)
class GateSet:
    """Vectors of the gate's fixed inputs: query images and collection captions."""

    images: Matrix
    captions: Matrix


@dataclass(frozen=True)
class GateFigures:
    """How close one runtime and precision comes to torch float32."""

    label: str
    precision: str
    cosine_min: float
    cosine_mean: float
    centred_cosine_min: float
    overlap_at_10: float
    reference_spread: float
    images: int
    captions: int

    @property
    def cosine_goal(self) -> float:
        """The per-vector cosine this precision must reach."""
        return COSINE_GOAL.get(self.precision, COSINE_GOAL["fp32"])

    @property
    def passed(self) -> bool:
        """Whether both gated figures reach their goals."""
        return self.cosine_min >= self.cosine_goal and self.overlap_at_10 >= OVERLAP_GOAL

    def describe(self) -> str:
        """The figures in one line, with the goals."""
        return (
            f"{self.label}: min cosine to torch fp32 {self.cosine_min:.5f} (goal >= "
            f"{self.cosine_goal}), top-{NEIGHBOURS} overlap {self.overlap_at_10:.3f} (goal >= "
            f"{OVERLAP_GOAL}), centred min cosine {self.centred_cosine_min:.4f}, over "
            f"{self.images} images and {self.captions} captions"
        )

    def as_dict(self) -> dict[str, Any]:
        """The figures as JSON-ready data."""
        return {**asdict(self), "passed": self.passed, "cosine_goal": self.cosine_goal}


def _normalised(rows: Matrix) -> Matrix:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    result: Matrix = (rows / np.maximum(norms, 1e-12)).astype(np.float32)
    return result


def _batched(
    run: Callable[[Arrays], Matrix],
    prepare: Callable[[Sequence[Any]], Arrays],
    items: list[Any],
    batch: int,
) -> Matrix:
    parts = [run(prepare(items[i : i + batch])) for i in range(0, len(items), batch)]
    return _normalised(np.concatenate(parts))


def embed_gate_set(
    towers: Towers,
    preprocessor: Preprocessor,
    *,
    batch: int,
    queries: int = QUERIES,
    collection: int = COLLECTION,
) -> GateSet:
    """Normalised vectors of the gate's query images and collection captions."""
    images = calibration.images(queries, seed=calibration.GATE_SEED)
    captions = calibration.captions(collection, seed=calibration.GATE_SEED)
    return GateSet(
        images=_batched(towers.image, preprocessor.images, images, batch),
        captions=_batched(towers.text, preprocessor.texts, captions, batch),
    )


def _top(queries: Matrix, collection: Matrix, k: int) -> npt.NDArray[np.int64]:
    scores = queries @ collection.T
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    return top.astype(np.int64)


def _spread(rows: Matrix) -> float:
    mean = rows.mean(axis=0)
    # Mean pairwise cosine of unit rows = (|sum|^2 - n) / (n (n - 1)), without the n x n matrix.
    n = len(rows)
    return float((n * n * float(mean @ mean) - n) / (n * (n - 1))) if n > 1 else 1.0


def compare(reference: GateSet, candidate: GateSet, *, label: str, precision: str) -> GateFigures:
    """The gate's figures for ``candidate`` against the torch float32 ``reference``."""
    cosines = np.concatenate(
        [
            (reference.images * candidate.images).sum(axis=1),
            (reference.captions * candidate.captions).sum(axis=1),
        ]
    )
    centred = []
    for ref, cand in (
        (reference.images, candidate.images),
        (reference.captions, candidate.captions),
    ):
        mean = ref.mean(axis=0, keepdims=True)
        centred.append((_normalised(ref - mean) * _normalised(cand - mean)).sum(axis=1))
    k = min(NEIGHBOURS, len(reference.captions))
    expected = _top(reference.images, reference.captions, k)
    found = _top(candidate.images, candidate.captions, k)
    overlap = np.mean(
        [len(set(a.tolist()) & set(b.tolist())) / k for a, b in zip(expected, found, strict=True)]
    )
    return GateFigures(
        label=label,
        precision=precision,
        cosine_min=round(float(cosines.min()), 6),
        cosine_mean=round(float(cosines.mean()), 6),
        centred_cosine_min=round(float(np.concatenate(centred).min()), 6),
        overlap_at_10=round(float(overlap), 4),
        reference_spread=round((_spread(reference.images) + _spread(reference.captions)) / 2, 4),
        images=len(reference.images),
        captions=len(reference.captions),
    )
