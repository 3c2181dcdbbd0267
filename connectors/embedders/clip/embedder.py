"""Local CLIP / SigLIP / SigLIP 2 embeddings through ``transformers``."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from mmingest.connectors.embedders.base import Vectors
from mmingest.connectors.embedders.clip.loading import load_checkpoint
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
from mmingest.schemas.errors import ConfigError, InvalidInput, ModelUnavailable

log = logging.getLogger(__name__)

# SigLIP models were trained on texts padded to their full length; CLIP on unpadded ones.
_PAD_TO_MAX_LENGTH = {"siglip", "siglip2"}


def _import_torch() -> Any:
    return import_extra("torch", "the clip embedder")


def _pick_device(torch: Any, wanted: str) -> str:
    if wanted != "auto":
        if wanted == "cuda" and not torch.cuda.is_available():
            raise ConfigError("embedder.device is 'cuda' but PyTorch sees no CUDA device")
        return wanted
    if torch.cuda.is_available():
        return "cuda"
    return "cpu"


def _pick_dtype(torch: Any, precision: str, device: str) -> Any:
    if precision == "auto":
        return torch.float16 if device == "cuda" else torch.float32
    return getattr(torch, precision)


def _features(output: Any) -> Any:
    # transformers 5 returns a model output whose pooler_output holds the projected features;
    # transformers 4 returned the tensor itself.
    return getattr(output, "pooler_output", output)


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

    Runs on CUDA in half precision when available, on the CPU in float32 otherwise. Vectors are
    L2-normalised, so cosine similarity equals the dot product. CLIP has no separate query
    encoder: texts embed the same way as documents and queries.
    """

    def __init__(self, config: ClipEmbedderConfig) -> None:
        self.config = config
        self._torch = _import_torch()
        self.device = _pick_device(self._torch, config.device)
        self.dtype = _pick_dtype(self._torch, config.precision, self.device)
        loaded = load_checkpoint(config, dtype=self.dtype, device=self.device)
        self._model = loaded.model
        self._processor = loaded.processor
        self._image_processor = getattr(loaded.processor, "image_processor", loaded.processor)
        self._tokenizer = getattr(loaded.processor, "tokenizer", loaded.processor)
        self._model_type = str(self._model.config.model_type)
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
                max_text_tokens=self._max_text_tokens(),
            ),
        )
        log.info("loaded %s on %s (%s)", self._info.model, self.device, self.dtype)

    @property
    def info(self) -> EmbedderInfo:
        """Identity, dimension and limits of the loaded model."""
        return self._info

    def usage(self) -> EmbedderUsage:
        """Forward passes and inputs embedded (a local model bills nothing)."""
        return EmbedderUsage(requests=self._passes, inputs=self._inputs)

    def _model_name(self) -> str:
        if self.config.model_name:
            return self.config.model_name
        local = Path(self.config.model).expanduser()
        return local.resolve().name if local.exists() else self.config.model

    def _max_text_tokens(self) -> int:
        text_config = getattr(self._model.config, "text_config", None)
        return int(getattr(text_config, "max_position_embeddings", 77))

    def embed_texts(self, texts: Sequence[str], *, kind: InputKind = InputKind.DOCUMENT) -> Vectors:
        """Embed texts; longer texts are truncated to the model's context (77 tokens for CLIP)."""
        if not texts:
            return np.zeros((0, self._info.dimension), dtype=np.float32)
        return self._encode_texts(list(texts))

    def embed_images(self, images: Sequence[Image.Image]) -> Vectors:
        """Embed RGB images (the processor resizes and normalises them)."""
        if not images:
            return np.zeros((0, self._info.dimension), dtype=np.float32)
        try:
            # The image processor itself, not the combined processor: the latter may override
            # the checkpoint's saved settings with class defaults (SigLIP 2 patch sizes).
            inputs = self._image_processor(images=list(images), return_tensors="pt")
        except (ValueError, TypeError, OSError) as error:
            raise InvalidInput(f"the image processor rejected an image: {error}") from error
        return self._run("get_image_features", inputs)

    def _encode_texts(self, texts: list[str]) -> Vectors:
        padding: str | bool = "max_length" if self._model_type in _PAD_TO_MAX_LENGTH else True
        inputs = self._tokenizer(
            texts,
            padding=padding,
            truncation=True,
            max_length=self._max_text_tokens(),
            return_tensors="pt",
        )
        return self._run("get_text_features", inputs)

    def _run(self, method: str, inputs: Any) -> Vectors:
        torch = self._torch
        tensors = {}
        for name, value in inputs.items():
            if hasattr(value, "to"):
                floating = torch.is_floating_point(value)
                value = (
                    value.to(self.device, dtype=self.dtype) if floating else value.to(self.device)
                )
            tensors[name] = value
        with self._lock, torch.inference_mode():
            try:
                features = _features(getattr(self._model, method)(**tensors))
            except RuntimeError as error:
                if "out of memory" in str(error).lower():
                    raise ModelUnavailable(
                        f"model {self.config.model!r} ran out of memory on {self.device}: lower "
                        f"embedder.batch_size (now {self.config.batch_size})"
                    ) from error
                raise
            features = torch.nn.functional.normalize(features.float(), dim=-1)
            self._passes += 1
            self._inputs += int(features.shape[0])
        result: Vectors = features.cpu().numpy().astype(np.float32, copy=False)
        return result

    def close(self) -> None:
        """Drop the model so its memory can be reclaimed."""
        self._model = None
        self._processor = self._image_processor = self._tokenizer = None
