"""ONNX Runtime towers: ``torch.onnx`` export, optional int8 post-training quantisation.

``fp32`` is the traced graph as exported. ``int8`` quantises the weights of every MatMul /
Gemm to int8 per output channel, with activations quantised per batch at run time
(``quantize_dynamic``). Static QDQ quantisation with a calibration set was measured against it
and was not better (see README, Benchmarks), so it is not offered.
ONNX Runtime has no bfloat16 kernels for these graphs on the CPU: ``bf16`` is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from mmingest.connectors.embedders.clip import calibration
from mmingest.connectors.embedders.clip.preprocess import Preprocessor
from mmingest.connectors.embedders.clip.towers import Arrays, Tower, dynamic_axes, tower_module
from mmingest.connectors.extras import import_extra
from mmingest.schemas.errors import ConfigError

PRECISIONS = ("fp32", "int8")
DISTRIBUTIONS = ("onnxruntime", "onnx", "torch", "transformers")
_OPSET = 17


def import_onnxruntime() -> Any:
    """The ``onnxruntime`` module, or a one-line error naming the extra."""
    import_extra("onnx", "embedder.runtime 'onnx'")  # export and quantisation need it
    return import_extra("onnxruntime", "embedder.runtime 'onnx'")


def check_precision(precision: str) -> None:
    """Refuse a precision this runtime does not offer."""
    if precision not in PRECISIONS:
        raise ConfigError(
            f"embedder.runtime 'onnx' offers precision {' or '.join(PRECISIONS)}, not "
            f"{precision!r}: ONNX Runtime has no bfloat16 CPU kernels for these models; use "
            "embedder.runtime 'openvino' for bf16"
        )


def _export(model: Any, tower: Tower, sample: Arrays, path: Path) -> None:
    import torch

    names = list(sample)
    module = tower_module(model, tower, names)
    args = tuple(torch.from_numpy(np.ascontiguousarray(sample[name])) for name in names)
    with torch.inference_mode(False), torch.no_grad():
        torch.onnx.export(
            module,
            args,
            str(path),
            dynamo=False,
            input_names=names,
            output_names=["features"],
            dynamic_axes=dynamic_axes(tower, sample),
            opset_version=_OPSET,
        )


def stored_precision(precision: str) -> str:
    """The precision of the files an entry holds for ``precision``."""
    return precision


def export(model: Any, preprocessor: Preprocessor, folder: Path) -> None:
    """Export both towers of the float32 ``model`` into ``folder``."""
    import_onnxruntime()
    seed = calibration.CALIBRATION_SEED
    samples: dict[Tower, Arrays] = {
        "image": preprocessor.images(calibration.images(2, seed=seed)),
        "text": preprocessor.texts(calibration.captions(2, seed=seed)),
    }
    for tower, sample in samples.items():
        _export(model, tower, sample, folder / f"{tower}.onnx")


def quantize(base: Path, preprocessor: Preprocessor, folder: Path) -> None:
    """Quantise the float32 entry ``base`` into ``folder`` (int8 weights, dynamic activations)."""
    import_onnxruntime()
    from onnxruntime.quantization import QuantType, quantize_dynamic

    for tower in ("image", "text"):
        quantize_dynamic(
            base / f"{tower}.onnx",
            folder / f"{tower}.onnx",
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul", "Gemm"],
        )


class OnnxTowers:
    """Both towers as ONNX Runtime sessions on the CPU."""

    def __init__(self, folder: Path, *, label: str, threads: int | None = None) -> None:
        onnxruntime = import_onnxruntime()
        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        if threads:
            options.intra_op_num_threads = threads
        self._sessions = {
            tower: onnxruntime.InferenceSession(
                str(folder / f"{tower}.onnx"), options, providers=["CPUExecutionProvider"]
            )
            for tower in ("image", "text")
        }
        self._names = {
            tower: [i.name for i in session.get_inputs()]
            for tower, session in self._sessions.items()
        }
        self.label = label

    def _run(self, tower: Tower, inputs: Arrays) -> npt.NDArray[np.float32]:
        feed = {name: inputs[name] for name in self._names[tower]}
        (output,) = self._sessions[tower].run(["features"], feed)
        return np.asarray(output, dtype=np.float32)

    def image(self, inputs: Arrays) -> npt.NDArray[np.float32]:
        """Image features from the image session."""
        return self._run("image", inputs)

    def text(self, inputs: Arrays) -> npt.NDArray[np.float32]:
        """Text features from the text session."""
        return self._run("text", inputs)
