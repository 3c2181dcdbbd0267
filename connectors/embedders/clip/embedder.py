"""Local CLIP / SigLIP / SigLIP 2 embeddings: ``transformers`` models on torch, ONNX or OpenVINO."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from mmingest.connectors.embedders.base import Vectors
from mmingest.connectors.embedders.clip.gate import GateFigures
from mmingest.connectors.embedders.clip.loading import load_checkpoint
from mmingest.connectors.embedders.clip.preprocess import Preprocessor
from mmingest.connectors.embedders.clip.runtimes import Runtimes
from mmingest.connectors.embedders.clip.towers import Arrays, TorchTowers, Tower, Towers
from mmingest.connectors.embedders.clip.weights import checkpoint_identity
from mmingest.connectors.extras import import_extra
from mmingest.schemas.config import ClipEmbedderConfig
from mmingest.schemas.embedding import (
    Distance,
    EmbedderInfo,
    EmbedderLimits,
    EmbedderUsage,
    InputKind,
)
from mmingest.schemas.errors import ConfigError, ModelUnavailable

log = logging.getLogger(__name__)

DEFAULT_EXPORT_DIR = Path(".mmingest") / "model-exports"


def _import_torch() -> Any:
    return import_extra("torch", "the clip embedder")


def _pick_device(torch: Any, wanted: str, runtime: str) -> str:
    if runtime != "torch":
        if wanted not in ("auto", "cpu"):
            raise ConfigError(
                f"embedder.runtime {runtime!r} runs on the CPU, but embedder.device is "
                f"{wanted!r}: use runtime 'torch' on {wanted}, or device 'cpu'"
            )
        return "cpu"
    if wanted != "auto":
        if wanted == "cuda" and not torch.cuda.is_available():
            raise ConfigError("embedder.device is 'cuda' but PyTorch sees no CUDA device")
        return wanted
    if torch.cuda.is_available():
        return "cuda"
    return "cpu"


def _torch_precision(precision: str, device: str) -> str:
    if precision == "auto":
        return "fp16" if device == "cuda" else "fp32"
    if precision == "int8":
        raise ConfigError(
            "embedder.precision 'int8' needs an exported runtime: set embedder.runtime to "
            "'onnx', 'openvino' or 'auto'"
        )
    return precision


_DTYPES = {"fp32": "float32", "fp16": "float16", "bf16": "bfloat16"}


def _model_image_side(processor: Any) -> int | None:
    image_processor = getattr(processor, "image_processor", None)
    for attribute in ("crop_size", "size"):
        size = getattr(image_processor, attribute, None)
        # transformers 4 uses dicts, transformers 5 SizeDict objects.
        lookup = size.get if isinstance(size, dict) else lambda key, s=size: getattr(s, key, None)
        side = lookup("shortest_edge") or lookup("height")
        if side:
            return int(side)
    return None


class ClipEmbedder:
    """A CLIP-family dual encoder (any CLIP, SigLIP or SigLIP 2 checkpoint or local folder).

    ``embedder.runtime`` picks what runs it: eager PyTorch (CUDA in half precision when
    available, else the CPU in float32), or on the CPU a graph exported once to ONNX Runtime or
    OpenVINO (fp32, bf16 or int8), admitted by the quality gate against torch float32
    (:mod:`.gate`). Vectors are L2-normalised, so cosine similarity equals the dot product.
    CLIP has no separate query encoder: texts embed the same way as documents and queries.
    """

    def __init__(self, config: ClipEmbedderConfig) -> None:
        self.config = config
        self._torch = _import_torch()
        self.device = _pick_device(self._torch, config.device, config.runtime)
        exported = config.runtime != "torch"
        # Exports are traced from the float32 model whatever precision they run at.
        precision = "fp32" if exported else _torch_precision(config.precision, self.device)
        self.dtype = getattr(self._torch, _DTYPES[precision])
        loaded = load_checkpoint(config, dtype=self.dtype, device=self.device)
        self._model = loaded.model
        self._processor = loaded.processor
        model_config = self._model.config
        self._model_type = str(model_config.model_type)
        text_config = getattr(model_config, "text_config", None)
        self._text_tokens = int(getattr(text_config, "max_position_embeddings", 77))
        self._preprocessor = Preprocessor(
            loaded.processor, model_type=self._model_type, max_text_tokens=self._text_tokens
        )
        self._image_processor = self._preprocessor.image_processor
        self._tokenizer = self._preprocessor.tokenizer
        self.gate: GateFigures | None = None
        """The quality gate's figures that admitted an exported runtime (None for torch)."""
        towers: Towers
        if exported:
            root = config.export_dir or DEFAULT_EXPORT_DIR
            runtimes = Runtimes(
                self._model, self._preprocessor, root=root.expanduser(), batch=config.batch_size
            )
            chosen = runtimes.choose(config.runtime, config.precision)
            towers, self.runtime, self.precision = chosen.towers, chosen.runtime, chosen.precision
            self.gate = chosen.figures
        else:
            self.runtime, self.precision = "torch", precision
            towers = TorchTowers(
                self._model, device=self.device, dtype=self.dtype, label=f"torch {precision}"
            )
        self._towers = towers
        self._lock = threading.Lock()
        self._passes = self._inputs = 0
        dimension = int(self._encode_texts(["dimension probe"]).shape[1])
        self._passes = self._inputs = 0  # the probe is not usage
        self._info = EmbedderInfo(
            provider="clip",
            model=self._model_name(),
            dimension=dimension,
            distance=Distance.COSINE,
            normalized=True,
            weights=checkpoint_identity(loaded.source, self._model, memo=config.weights_digests),
            limits=EmbedderLimits(
                max_batch=config.batch_size,
                # One model, one lock: concurrent calls would only queue.
                max_concurrency=1,
                model_image_side=_model_image_side(self._processor),
                max_text_tokens=self._text_tokens,
            ),
        )
        log.info("loaded %s on %s (%s)", self._info.model, self.device, towers.label)

    @property
    def info(self) -> EmbedderInfo:
        """Identity, dimension and limits of the loaded model."""
        return self._info

    @property
    def towers(self) -> Towers:
        """What runs the model: its label names the runtime and precision."""
        return self._towers

    @property
    def preprocessor(self) -> Preprocessor:
        """The checkpoint's processor and tokenizer, producing the towers' inputs."""
        return self._preprocessor

    def usage(self) -> EmbedderUsage:
        """Forward passes and inputs embedded (a local model bills nothing)."""
        return EmbedderUsage(requests=self._passes, inputs=self._inputs)

    def _model_name(self) -> str:
        if self.config.model_name:
            return self.config.model_name
        local = Path(self.config.model).expanduser()
        return local.resolve().name if local.exists() else self.config.model

    def embed_texts(self, texts: Sequence[str], *, kind: InputKind = InputKind.DOCUMENT) -> Vectors:
        """Embed texts; longer texts are truncated to the model's context (77 tokens for CLIP)."""
        if not texts:
            return np.zeros((0, self._info.dimension), dtype=np.float32)
        return self._encode_texts(list(texts))

    def embed_images(self, images: Sequence[Image.Image]) -> Vectors:
        """Embed RGB images (the processor resizes and normalises them)."""
        if not images:
            return np.zeros((0, self._info.dimension), dtype=np.float32)
        return self._run("image", self._preprocessor.images(images))

    def _encode_texts(self, texts: list[str]) -> Vectors:
        return self._run("text", self._preprocessor.texts(texts))

    def _run(self, tower: Tower, inputs: Arrays) -> Vectors:
        with self._lock:
            try:
                features = (
                    self._towers.image(inputs) if tower == "image" else self._towers.text(inputs)
                )
            except RuntimeError as error:
                if "out of memory" in str(error).lower():
                    raise ModelUnavailable(
                        f"model {self.config.model!r} ran out of memory on {self.device}: lower "
                        f"embedder.batch_size (now {self.config.batch_size})"
                    ) from error
                raise
            self._passes += 1
            self._inputs += int(features.shape[0])
        norms = np.linalg.norm(features, axis=1, keepdims=True)
        result: Vectors = (features / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)
        return result

    def close(self) -> None:
        """Drop the model so its memory can be reclaimed."""
        self._model = None
        self._processor = self._image_processor = self._tokenizer = None
        self._towers = None  # type: ignore[assignment]
