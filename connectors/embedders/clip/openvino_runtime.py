"""OpenVINO towers: ``openvino.convert_model`` from the PyTorch model, NNCF for int8.

``fp32`` compiles with an f32 inference precision hint (OpenVINO would otherwise run in bf16
on CPUs that have it); ``bf16`` asks for bf16 and is refused on CPUs without AVX-512 BF16 or
AMX; ``int8`` is NNCF post-training quantisation with a calibration set (static: activation
ranges are measured on generated images and captions, see :mod:`.calibration`), with the
transformer preset that keeps softmax and layer norms in float.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from mmingest.connectors.embedders.clip import calibration
from mmingest.connectors.embedders.clip.preprocess import Preprocessor
from mmingest.connectors.embedders.clip.towers import Arrays, Tower, tower_module
from mmingest.connectors.extras import import_extra
from mmingest.schemas.errors import ConfigError

PRECISIONS = ("fp32", "bf16", "int8")
DISTRIBUTIONS = ("openvino", "nncf", "torch", "transformers")
CALIBRATION_ITEMS = 64
_HINTS = {"fp32": "f32", "bf16": "bf16", "int8": "f32"}


def import_openvino() -> Any:
    """The ``openvino`` module, or a one-line error naming the extra."""
    return import_extra("openvino", "embedder.runtime 'openvino'")


def cpu_has_bf16() -> bool:
    """Whether the CPU executes bfloat16 natively (AVX-512 BF16 or AMX), per OpenVINO."""
    openvino = import_openvino()
    capabilities = openvino.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    return "BF16" in capabilities


def check_precision(precision: str) -> None:
    """Refuse a precision this runtime or this CPU does not offer."""
    if precision not in PRECISIONS:
        raise ConfigError(
            f"embedder.runtime 'openvino' offers precision {', '.join(PRECISIONS)}, "
            f"not {precision!r}"
        )
    if precision == "bf16" and not cpu_has_bf16():
        raise ConfigError(
            "embedder.precision 'bf16' needs a CPU with AVX-512 BF16 or AMX and this one has "
            "neither: use fp32 or int8"
        )


def _convert(model: Any, tower: Tower, sample: Arrays) -> Any:
    import torch

    openvino = import_openvino()
    names = list(sample)
    module = tower_module(model, tower, names)
    example = tuple(torch.from_numpy(np.ascontiguousarray(sample[name])) for name in names)
    with torch.no_grad():
        converted = openvino.convert_model(module, example_input=example)
    for port, name in zip(converted.inputs, names, strict=True):
        port.get_tensor().set_names({name})
        # Batch (and for texts the sequence) may vary between calls.
        shape = list(sample[name].shape)
        dims = [-1] + ([-1] if tower == "text" and len(shape) >= 2 else shape[1:2]) + shape[2:]
        converted.reshape({port: openvino.PartialShape(dims[: len(shape)])})
    return converted


def _calibration(preprocessor: Preprocessor, tower: Tower) -> list[dict[str, Any]]:
    seed = calibration.CALIBRATION_SEED
    if tower == "image":
        batches = [
            preprocessor.images(calibration.images(8, seed=seed + i))
            for i in range(CALIBRATION_ITEMS // 8)
        ]
    else:
        texts = calibration.captions(CALIBRATION_ITEMS, seed=seed)
        batches = [preprocessor.texts(texts[i : i + 8]) for i in range(0, len(texts), 8)]
    return [dict(batch) for batch in batches]


def stored_precision(precision: str) -> str:
    """The precision of the files an entry holds: bf16 is a compile-time hint on fp32 files."""
    return "int8" if precision == "int8" else "fp32"


def export(model: Any, preprocessor: Preprocessor, folder: Path) -> None:
    """Convert both towers of the float32 ``model`` into ``folder``."""
    openvino = import_openvino()
    seed = calibration.CALIBRATION_SEED
    samples: dict[Tower, Arrays] = {
        "image": preprocessor.images(calibration.images(2, seed=seed)),
        "text": preprocessor.texts(calibration.captions(2, seed=seed)),
    }
    for tower, sample in samples.items():
        converted = _convert(model, tower, sample)
        openvino.save_model(converted, str(folder / f"{tower}.xml"), compress_to_fp16=False)


def quantize(base: Path, preprocessor: Preprocessor, folder: Path) -> None:
    """NNCF int8 quantisation of the float32 entry ``base`` into ``folder``."""
    openvino = import_openvino()
    nncf = import_extra("nncf", "embedder.precision 'int8' on openvino")
    core = openvino.Core()
    for tower in ("image", "text"):
        model = core.read_model(str(base / f"{tower}.xml"))
        quantized = nncf.quantize(
            model,
            nncf.Dataset(_calibration(preprocessor, tower)),
            model_type=nncf.ModelType.TRANSFORMER,
            subset_size=CALIBRATION_ITEMS // 8,
        )
        openvino.save_model(quantized, str(folder / f"{tower}.xml"), compress_to_fp16=False)


class OpenVinoTowers:
    """Both towers compiled for the CPU at the precision asked for."""

    def __init__(self, folder: Path, *, precision: str, label: str) -> None:
        openvino = import_openvino()
        core = openvino.Core()
        config = {"INFERENCE_PRECISION_HINT": _HINTS[precision], "PERFORMANCE_HINT": "LATENCY"}
        self._compiled = {
            tower: core.compile_model(str(folder / f"{tower}.xml"), "CPU", config)
            for tower in ("image", "text")
        }
        self._names = {
            tower: [port.get_any_name() for port in compiled.inputs]
            for tower, compiled in self._compiled.items()
        }
        self._requests = {tower: c.create_infer_request() for tower, c in self._compiled.items()}
        self.label = label

    def _run(self, tower: Tower, inputs: Arrays) -> npt.NDArray[np.float32]:
        feed = {name: np.ascontiguousarray(inputs[name]) for name in self._names[tower]}
        result = self._requests[tower].infer(feed)
        return np.array(result[0], dtype=np.float32)

    def image(self, inputs: Arrays) -> npt.NDArray[np.float32]:
        """Image features from the compiled image tower."""
        return self._run("image", inputs)

    def text(self, inputs: Arrays) -> npt.NDArray[np.float32]:
        """Text features from the compiled text tower."""
        return self._run("text", inputs)
