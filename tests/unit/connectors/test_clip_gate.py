"""The quality gate's arithmetic and the export cache's keys, without a model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mmingest.connectors.embedders.clip import calibration, gate
from mmingest.connectors.embedders.clip.exports import ExportKey, cached_export


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def _set(rng: np.random.Generator, *, shared: float = 0.0) -> gate.GateSet:
    common = rng.standard_normal(64)
    images = rng.standard_normal((100, 64)) + shared * common
    captions = rng.standard_normal((2000, 64)) + shared * common
    return gate.GateSet(_unit(images), _unit(captions))


def _noisy(reference: gate.GateSet, scale: float, seed: int = 1) -> gate.GateSet:
    rng = np.random.default_rng(seed)
    return gate.GateSet(
        _unit(reference.images + scale * rng.standard_normal(reference.images.shape)),
        _unit(reference.captions + scale * rng.standard_normal(reference.captions.shape)),
    )


def test_identical_vectors_pass_with_perfect_figures():
    reference = _set(np.random.default_rng(0))
    figures = gate.compare(reference, reference, label="same", precision="fp32")
    assert figures.cosine_min == pytest.approx(1.0, abs=1e-5)
    assert figures.overlap_at_10 == 1.0
    assert figures.passed
    assert (figures.images, figures.captions) == (100, 2000)


def test_int8_sized_error_passes_the_int8_goal_but_not_the_fp32_goal():
    reference = _set(np.random.default_rng(0))
    candidate = _noisy(reference, 0.006)
    fp32 = gate.compare(reference, candidate, label="x", precision="fp32")
    int8 = gate.compare(reference, candidate, label="x", precision="int8")
    assert 0.99 <= fp32.cosine_min < 0.999
    assert int8.cosine_min >= int8.cosine_goal and not fp32.passed
    # Passing needs both figures: the neighbour order decides the rest.
    assert int8.passed is (int8.overlap_at_10 >= gate.OVERLAP_GOAL)
    assert "(goal >= 0.999)" in fp32.describe() and "(goal >= 0.99)" in int8.describe()


def test_degenerate_vectors_fool_the_raw_cosine_but_not_the_neighbour_overlap():
    # Vectors that share one dominant direction (as a randomly initialised model's do): the
    # same noise leaves the raw cosine near 1 but scrambles who is whose neighbour.
    reference = _set(np.random.default_rng(0), shared=30.0)
    candidate = _noisy(reference, 0.01)
    figures = gate.compare(reference, candidate, label="x", precision="int8")
    assert figures.reference_spread > 0.9
    assert figures.cosine_min > 0.99
    assert figures.centred_cosine_min < 0.9
    assert figures.overlap_at_10 < gate.OVERLAP_GOAL
    assert not figures.passed


def test_generated_inputs_are_deterministic_and_distinct():
    assert calibration.captions(50) == calibration.captions(50)
    assert len(set(calibration.captions(2000))) == 2000
    assert calibration.captions(10) != calibration.captions(10, seed=calibration.CALIBRATION_SEED)
    first, again = calibration.images(3), calibration.images(3)
    assert [i.tobytes() for i in first] == [i.tobytes() for i in again]
    assert first[0].mode == "RGB" and first[0].tobytes() != first[1].tobytes()
    with pytest.raises(ValueError, match="at most"):
        calibration.captions(10_000)


def test_export_entries_are_keyed_built_once_and_never_trusted_when_the_key_differs(tmp_path):
    calls = []

    def build(folder):
        calls.append(folder)
        (folder / "model.bin").write_text(str(len(calls)))

    key = ExportKey(checkpoint="a" * 64, runtime="onnx", precision="int8", versions={"x": "1"})
    first = cached_export(tmp_path, key, build)
    assert cached_export(tmp_path, key, build) == first and len(calls) == 1
    assert json.loads((first / "key.json").read_text())["checkpoint"] == "a" * 64
    other = ExportKey(checkpoint="b" * 64, runtime="onnx", precision="int8", versions={"x": "1"})
    newer = ExportKey(checkpoint="a" * 64, runtime="onnx", precision="int8", versions={"x": "2"})
    assert len({key.folder(tmp_path), other.folder(tmp_path), newer.folder(tmp_path)}) == 3
    # An entry whose recorded key is not its own is rebuilt, never used.
    (first / "key.json").write_text(json.dumps({"checkpoint": "tampered"}))
    assert cached_export(tmp_path, key, build) == first and len(calls) == 2
    assert (first / "model.bin").read_text() == "2"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no scratch left
