"""The exported runtimes (ONNX Runtime, OpenVINO) behind ClipEmbedder, on tiny models.

Every configuration is checked by the product's own quality gate against torch float32, the
export cache is shown to be reused for the same weights and never for other weights, and a
configuration below the gate is refused with its figures.
"""

from __future__ import annotations

import copy
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from mmingest.connectors.embedders.clip import ClipEmbedder, gate, onnx_runtime, runtimes
from mmingest.connectors.embedders.clip.calibration import captions, images
from mmingest.schemas.config import ClipEmbedderConfig
from mmingest.schemas.errors import ConfigError, MissingExtra
from tests.support.models import build_tiny_clip, build_tiny_siglip

CONFIGURATIONS = [("onnx", "fp32"), ("openvino", "fp32"), ("openvino", "bf16")]


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One export cache for the module: each configuration is built once."""
    return tmp_path_factory.mktemp("exports")


def _embedder(model: Path, exports: Path, runtime: str, precision: str) -> ClipEmbedder:
    return ClipEmbedder(
        ClipEmbedderConfig(
            model=str(model),
            runtime=runtime,
            precision=precision,
            export_dir=exports,
            batch_size=16,
        )
    )


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.asarray((a * b).sum(axis=1))


@pytest.mark.parametrize(("runtime", "precision"), CONFIGURATIONS)
def test_each_runtime_gives_the_torch_vectors(tiny_clip_dir, exports, runtime, precision):
    if precision == "bf16" and not runtimes.openvino_runtime.cpu_has_bf16():
        pytest.skip("this CPU has no native bf16")
    reference = ClipEmbedder(ClipEmbedderConfig(model=str(tiny_clip_dir), batch_size=16))
    embedder = _embedder(tiny_clip_dir, exports, runtime, precision)
    assert (embedder.runtime, embedder.precision) == (runtime, precision)
    assert embedder.towers.label == f"{runtime} {precision}"
    figures = embedder.gate
    assert figures is not None and figures.passed
    assert (figures.images, figures.captions) == (gate.QUERIES, gate.COLLECTION)
    assert embedder.info == reference.info  # same model identity and dimension: same space
    pictures = [Image.new("RGB", (48, 40), (30 * i, 200 - 20 * i, 90)) for i in range(6)]
    texts = ["a red circle", "a much longer caption about a striped teapot on a shelf", "x"]
    goal = gate.COSINE_GOAL[precision]
    got_images, want_images = embedder.embed_images(pictures), reference.embed_images(pictures)
    got_texts, want_texts = embedder.embed_texts(texts), reference.embed_texts(texts)
    np.testing.assert_allclose(np.linalg.norm(got_images, axis=1), 1.0, rtol=1e-5)
    assert got_images.dtype == np.float32 and got_images.shape == want_images.shape
    assert _cosines(got_images, want_images).min() >= goal
    assert _cosines(got_texts, want_texts).min() >= goal


@pytest.mark.parametrize("runtime", ["onnx", "openvino"])
def test_int8_on_the_tiny_model_is_refused_by_the_gate_with_its_figures(
    tiny_clip_dir, exports, runtime
):
    # 32-wide layers lose too much to int8 to keep the order of 2,000 near neighbours: the gate
    # must notice (the per-vector cosine alone may not), and say so with the figures.
    with pytest.raises(ConfigError, match=r"below the quality gate.*top-10 overlap 0\.\d+"):
        _embedder(tiny_clip_dir, exports, runtime, "int8")
    # The quantised towers themselves run and stay close: the refusal is about the margin.
    reference = ClipEmbedder(ClipEmbedderConfig(model=str(tiny_clip_dir), batch_size=16))
    chooser = runtimes.Runtimes(reference._model, reference.preprocessor, root=exports, batch=16)
    towers, folder = chooser.exported(runtime, "int8")
    inputs = reference.preprocessor.texts(captions(8, seed=5))
    got = towers.text(inputs)
    want = reference.towers.text(inputs)
    got /= np.linalg.norm(got, axis=1, keepdims=True)
    want /= np.linalg.norm(want, axis=1, keepdims=True)
    assert 0.95 < _cosines(got, want).min() < 0.99999
    verdict = json.loads(next(folder.glob("gate-int8-*.json")).read_text())
    assert verdict["passed"] is False and verdict["overlap_at_10"] < gate.OVERLAP_GOAL


def test_exports_are_cached_by_content_and_never_reused_for_other_weights(
    tiny_clip_dir, tmp_path, monkeypatch
):
    built: list[Path] = []
    original = onnx_runtime.export

    def counting(model, preprocessor, folder):
        built.append(folder)
        original(model, preprocessor, folder)

    monkeypatch.setattr(onnx_runtime, "export", counting)
    first = _embedder(tiny_clip_dir, tmp_path, "onnx", "fp32")
    again = _embedder(tiny_clip_dir, tmp_path, "onnx", "fp32")
    assert len(built) == 1  # the second embedder found the entry (and its gate verdict)
    np.testing.assert_allclose(first.embed_texts(["same"]), again.embed_texts(["same"]), atol=1e-6)
    other = build_tiny_clip(tmp_path / "other-weights", seed=1)
    different = _embedder(other, tmp_path, "onnx", "fp32")
    assert len(built) == 2
    entries = sorted(p for p in tmp_path.glob("onnx-fp32-*") if p.is_dir())
    assert len(entries) == 2
    keys = [json.loads((entry / "key.json").read_text()) for entry in entries]
    assert keys[0]["checkpoint"] != keys[1]["checkpoint"]
    assert {"onnxruntime", "onnx", "torch", "transformers"} <= set(keys[0]["versions"])
    assert not np.allclose(first.embed_texts(["same"]), different.embed_texts(["same"]))


def test_a_configuration_below_the_gate_is_refused_with_its_figures(
    tiny_clip_dir, tmp_path, monkeypatch
):
    original = onnx_runtime.export

    def damaged(model, preprocessor, folder):
        # An export that computes something else: the same graph with perturbed weights.
        broken = copy.deepcopy(model)
        torch.manual_seed(0)
        with torch.no_grad():
            for parameter in broken.parameters():
                if parameter.numel() > 1:
                    parameter.add_(0.3 * parameter.std() * torch.randn_like(parameter))
        original(broken, preprocessor, folder)

    monkeypatch.setattr(onnx_runtime, "export", damaged)
    with pytest.raises(ConfigError, match=r"below the quality gate.*min cosine to torch fp32"):
        _embedder(tiny_clip_dir, tmp_path, "onnx", "fp32")
    # auto skips it and takes the next configuration that passes.
    monkeypatch.setattr(runtimes, "AUTO_ORDER", (("onnx", "fp32"), ("openvino", "fp32")))
    embedder = _embedder(tiny_clip_dir, tmp_path, "auto", "auto")
    assert (embedder.runtime, embedder.precision) == ("openvino", "fp32")


def test_auto_takes_the_first_configuration_that_passes(tiny_clip_dir, exports, monkeypatch):
    order = (("onnx", "bf16"), ("onnx", "int8"), ("openvino", "fp32"), ("onnx", "fp32"))
    monkeypatch.setattr(runtimes, "AUTO_ORDER", order)
    embedder = _embedder(tiny_clip_dir, exports, "auto", "auto")
    # onnx bf16 does not exist, onnx int8 is below the gate on this model: skipped, both.
    assert (embedder.runtime, embedder.precision) == ("openvino", "fp32")
    assert embedder.gate is not None and embedder.gate.passed
    only_int8 = _embedder(tiny_clip_dir, exports, "auto", "int8")
    assert (only_int8.runtime, only_int8.precision) == ("torch", "fp32")  # none qualifies


def test_auto_falls_back_to_torch_without_runtime_packages(tiny_clip_dir, tmp_path, monkeypatch):
    for module in ("onnxruntime", "openvino", "onnx"):
        monkeypatch.setitem(sys.modules, module, None)  # as if not installed
    embedder = _embedder(tiny_clip_dir, tmp_path, "auto", "auto")
    assert (embedder.runtime, embedder.precision, embedder.gate) == ("torch", "fp32", None)
    for runtime, extra in (("onnx", "mmingest[onnx]"), ("openvino", "mmingest[openvino]")):
        with pytest.raises(
            MissingExtra, match=rf"needs .*pip install '{re.escape(extra)}'"
        ) as error:
            _embedder(tiny_clip_dir, tmp_path, runtime, "fp32")
        assert "\n" not in str(error.value)


def test_unsupported_combinations_say_what_to_use(tiny_clip_dir, tmp_path):
    with pytest.raises(ConfigError, match=r"no bfloat16 CPU kernels.*'openvino' for bf16"):
        _embedder(tiny_clip_dir, tmp_path, "onnx", "bf16")
    with pytest.raises(ConfigError, match="'int8' needs an exported runtime"):
        _embedder(tiny_clip_dir, tmp_path, "torch", "int8")
    with pytest.raises(ConfigError, match="runs on the CPU"):
        ClipEmbedder(ClipEmbedderConfig(model=str(tiny_clip_dir), runtime="onnx", device="cuda"))


@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize("runtime", ["onnx", "openvino"])
def test_siglip_models_export_too(tmp_path, version, runtime):
    directory = build_tiny_siglip(tmp_path / f"siglip{version}", version=version)
    reference = ClipEmbedder(ClipEmbedderConfig(model=str(directory)))
    embedder = _embedder(directory, tmp_path / "exports", runtime, "fp32")
    assert embedder.gate is not None and embedder.gate.passed
    pictures = images(4, seed=3, size=(70, 40))  # another aspect ratio than the gate's
    texts = captions(4, seed=3)
    assert _cosines(embedder.embed_images(pictures), reference.embed_images(pictures)).min() > 0.999
    assert _cosines(embedder.embed_texts(texts), reference.embed_texts(texts)).min() > 0.999
