"""Choose, build (once) and check the runtime that runs a CLIP-family model's towers.

``torch`` runs the ``transformers`` model as loaded. ``onnx`` and ``openvino`` run a graph
exported from it, cached by checkpoint content, runtime, precision and library versions
(:mod:`.exports`), and admitted only when it passes the quality gate (:mod:`.gate`) against
torch float32 on this machine; the verdict is cached next to the export. ``auto`` tries the
configurations in :data:`AUTO_ORDER` (fastest first, as measured by ``python -m bench``) and
takes the first that is installed, supported by this CPU and passes the gate, else torch.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mmingest.connectors.embedders.clip import gate, onnx_runtime, openvino_runtime
from mmingest.connectors.embedders.clip.exports import (
    ExportKey,
    cached_export,
    checkpoint_hash,
    library_versions,
)
from mmingest.connectors.embedders.clip.preprocess import Preprocessor
from mmingest.connectors.embedders.clip.towers import TorchTowers, Towers
from mmingest.schemas.errors import ConfigError

log = logging.getLogger(__name__)

AUTO_ORDER: tuple[tuple[str, str], ...] = (
    ("openvino", "int8"),
    ("onnx", "int8"),
    ("openvino", "bf16"),
    ("onnx", "fp32"),
    ("openvino", "fp32"),
)
"""(runtime, precision) that ``auto`` tries, fastest first (see README, Benchmarks)."""

_BACKENDS: dict[str, Any] = {"onnx": onnx_runtime, "openvino": openvino_runtime}


@dataclass(frozen=True)
class Chosen:
    """The towers in use, and the gate figures that admitted them (none for torch)."""

    towers: Towers
    runtime: str
    precision: str
    figures: gate.GateFigures | None


class Runtimes:
    """Builds towers for one loaded float32 model; holds what the gate needs across tries."""

    def __init__(
        self,
        model: Any,
        preprocessor: Preprocessor,
        *,
        root: Path,
        batch: int,
        threads: int | None = None,
    ) -> None:
        self.model = model
        self.preprocessor = preprocessor
        self.root = root
        self.batch = batch
        self.threads = threads
        self._checkpoint: str | None = None
        self._reference: gate.GateSet | None = None

    @property
    def checkpoint(self) -> str:
        """The content hash of the loaded weights (computed once)."""
        if self._checkpoint is None:
            self._checkpoint = checkpoint_hash(self.model)
        return self._checkpoint

    def torch(self) -> TorchTowers:
        """The eager float32 model."""
        import torch

        return TorchTowers(self.model, device="cpu", dtype=torch.float32, label="torch fp32")

    def reference(self) -> gate.GateSet:
        """Torch float32 vectors of the gate set, cached on disk by checkpoint and versions."""
        if self._reference is not None:
            return self._reference
        versions = library_versions("torch", "transformers")
        name = json.dumps(
            [self.checkpoint, versions, gate.QUERIES, gate.COLLECTION], sort_keys=True
        )
        path = self.root / f"reference-{hashlib.sha256(name.encode()).hexdigest()[:20]}.npz"
        if path.is_file():
            with np.load(path) as stored:
                self._reference = gate.GateSet(stored["images"], stored["captions"])
            return self._reference
        log.info("embedding the quality gate's reference set with torch fp32 (once per model)")
        self._reference = gate.embed_gate_set(self.torch(), self.preprocessor, batch=self.batch)
        self.root.mkdir(parents=True, exist_ok=True)
        scratch = path.with_suffix(".tmp.npz")
        np.savez(scratch, images=self._reference.images, captions=self._reference.captions)
        scratch.replace(path)
        return self._reference

    def _entry(self, runtime: str, precision: str) -> Path:
        backend = _BACKENDS[runtime]
        stored = backend.stored_precision(precision)
        key = ExportKey(
            checkpoint=self.checkpoint,
            runtime=runtime,
            precision=stored,
            versions=library_versions(*backend.DISTRIBUTIONS),
        )
        if stored == "int8":
            # Quantised from the cached float32 export: one trace per checkpoint.
            base = self._entry(runtime, "fp32")
            return cached_export(
                self.root, key, lambda into: backend.quantize(base, self.preprocessor, into)
            )
        return cached_export(
            self.root, key, lambda into: backend.export(self.model, self.preprocessor, into)
        )

    def exported(self, runtime: str, precision: str) -> tuple[Towers, Path]:
        """Towers of ``runtime`` at ``precision``, exporting on first use (no gate)."""
        backend = _BACKENDS[runtime]
        backend.check_precision(precision)
        folder = self._entry(runtime, precision)
        label = f"{runtime} {precision}"
        towers: Towers
        if runtime == "onnx":
            towers = onnx_runtime.OnnxTowers(folder, label=label, threads=self.threads)
        else:
            towers = openvino_runtime.OpenVinoTowers(folder, precision=precision, label=label)
        return towers, folder

    @staticmethod
    def verdict_path(folder: Path, precision: str) -> Path:
        """Where the gate's figures for ``precision`` on the entry ``folder`` are kept."""
        return folder / f"gate-{precision}-{gate.QUERIES}-{gate.COLLECTION}.json"

    def measure_gate(self, towers: Towers, folder: Path, precision: str) -> gate.GateFigures:
        """The gate's figures for ``towers`` (the entry ``folder``), measured once and kept."""
        verdict = self.verdict_path(folder, precision)
        if verdict.is_file():
            stored = json.loads(verdict.read_text())
            fields = gate.GateFigures.__dataclass_fields__
            return gate.GateFigures(**{k: v for k, v in stored.items() if k in fields})
        candidate = gate.embed_gate_set(towers, self.preprocessor, batch=self.batch)
        figures = gate.compare(self.reference(), candidate, label=towers.label, precision=precision)
        verdict.write_text(json.dumps(figures.as_dict(), indent=1))
        return figures

    def checked(self, runtime: str, precision: str) -> Chosen:
        """Gated towers: raises :class:`ConfigError` with the figures when below the gate."""
        towers, folder = self.exported(runtime, precision)
        figures = self.measure_gate(towers, folder, precision)
        if not figures.passed:
            raise ConfigError(
                f"embedder.runtime {runtime!r} at precision {precision!r} is below the quality "
                f"gate for this model: {figures.describe()}. Use another runtime or precision "
                "(or runtime 'auto', which skips configurations below the gate)"
            )
        log.info("quality gate passed: %s", figures.describe())
        return Chosen(towers, runtime, precision, figures)

    def choose(self, runtime: str, precision: str) -> Chosen:
        """The towers for the configured ``runtime`` and ``precision`` (either may be auto)."""
        if runtime == "torch":
            raise ValueError("torch towers are built by the embedder itself")
        if runtime != "auto":
            wanted = "fp32" if precision == "auto" else precision
            return self.checked(runtime, wanted)
        for candidate_runtime, candidate_precision in AUTO_ORDER:
            if precision not in ("auto", candidate_precision):
                continue
            try:
                return self.checked(candidate_runtime, candidate_precision)
            except ConfigError as error:
                log.info(
                    "runtime auto skips %s %s: %s", candidate_runtime, candidate_precision, error
                )
        log.info("runtime auto: no exported runtime qualifies, using torch fp32")
        return Chosen(self.torch(), "torch", "fp32", None)
