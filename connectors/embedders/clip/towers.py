"""The two towers of a CLIP-family model behind one small interface, whatever runs them.

A :class:`Towers` takes what the processor and the tokenizer produce (NumPy arrays by input
name) and returns the projected, not yet normalised features. :class:`TorchTowers` runs the
``transformers`` model; the exported runtimes (:mod:`.onnx_runtime`, :mod:`.openvino_runtime`)
run graphs traced from :func:`tower_module`, so every runtime computes the same function.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

Arrays = Mapping[str, npt.NDArray[Any]]
"""Model inputs by name, as the processor or tokenizer returns them (``return_tensors="np"``)."""

Tower = Literal["image", "text"]
METHODS: dict[Tower, str] = {"image": "get_image_features", "text": "get_text_features"}


class Towers(Protocol):
    """Image and text towers of one model on one runtime and precision."""

    label: str
    """Runtime and precision, e.g. ``"openvino int8"``."""

    def image(self, inputs: Arrays) -> npt.NDArray[np.float32]:
        """Image features (rows not normalised) for a processed batch."""
        ...

    def text(self, inputs: Arrays) -> npt.NDArray[np.float32]:
        """Text features (rows not normalised) for a tokenised batch."""
        ...


def features(output: Any) -> Any:
    """The projected features of a ``get_*_features`` call.

    transformers 5 returns a model output whose ``pooler_output`` holds them; transformers 4
    returned the tensor itself.
    """
    return getattr(output, "pooler_output", output)


class TorchTowers:
    """The ``transformers`` model itself, in eager PyTorch."""

    def __init__(self, model: Any, *, device: str, dtype: Any, label: str) -> None:
        import torch

        self._torch = torch
        self.model = model
        self.device = device
        self.dtype = dtype
        self.label = label

    def _run(self, tower: Tower, inputs: Arrays) -> npt.NDArray[np.float32]:
        torch = self._torch
        tensors = {}
        for name, value in inputs.items():
            tensor = torch.from_numpy(np.ascontiguousarray(value))
            if torch.is_floating_point(tensor):
                tensors[name] = tensor.to(self.device, dtype=self.dtype)
            else:
                tensors[name] = tensor.to(self.device)
        with torch.inference_mode():
            output = features(getattr(self.model, METHODS[tower])(**tensors))
        result: npt.NDArray[np.float32] = output.float().cpu().numpy()
        return result

    def image(self, inputs: Arrays) -> npt.NDArray[np.float32]:
        """Image features from the eager model."""
        return self._run("image", inputs)

    def text(self, inputs: Arrays) -> npt.NDArray[np.float32]:
        """Text features from the eager model."""
        return self._run("text", inputs)


def tower_module(model: Any, tower: Tower, names: Sequence[str]) -> Any:
    """A ``torch.nn.Module`` whose positional inputs ``names`` map to one tower's features.

    Exporters trace positional arguments; the model's ``get_*_features`` takes keywords.
    """
    import torch

    method = METHODS[tower]

    class _Tower(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *args: Any) -> Any:
            return features(getattr(self.model, method)(**dict(zip(names, args, strict=True))))

    return _Tower().eval()


def dynamic_axes(tower: Tower, inputs: Arrays) -> dict[str, dict[int, str]]:
    """Axes that vary between calls: the batch, and for texts the sequence length."""
    axes: dict[str, dict[int, str]] = {}
    for name, value in inputs.items():
        axes[name] = {0: "batch"}
        if tower == "text" and value.ndim >= 2:
            axes[name][1] = "sequence"
    return axes
