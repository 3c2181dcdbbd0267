"""The export cache: a model converted for a runtime is built once per checkpoint content.

An entry is a folder named by the digest of (checkpoint content hash, runtime, precision,
library versions). It is built in a temporary sibling folder and renamed into place when
complete, so a crash never leaves a half-written entry, and its ``key.json`` is compared on
every load, so an entry is never used for other weights or other library versions.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FORMAT = 1  # bump when what an entry holds changes


def library_versions(*distributions: str) -> dict[str, str]:
    """Installed versions of ``distributions`` (``"missing"`` for absent ones)."""
    versions = {}
    for name in distributions:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "missing"
    return versions


def checkpoint_hash(model: Any) -> str:
    """SHA-256 of the model's configuration and every weight's name, dtype, shape and bytes.

    Hashes what was loaded rather than files, so a hub checkpoint, a local copy and a
    re-saved folder of the same weights share exports, and different weights never do.
    """
    import torch

    digest = hashlib.sha256(model.config.to_json_string(use_diff=False).encode())
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}".encode())
        data = tensor.detach().to("cpu").contiguous()
        if data.dtype == torch.bfloat16:  # NumPy has no bfloat16: hash the raw 16-bit words
            data = data.view(torch.int16)
        digest.update(data.numpy().tobytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class ExportKey:
    """Everything an exported model depends on."""

    checkpoint: str
    runtime: str
    precision: str
    versions: dict[str, str] = field(default_factory=dict)
    format: int = FORMAT

    def digest(self) -> str:
        """A short stable name for this key."""
        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:20]

    def folder(self, root: Path) -> Path:
        """Where this key's entry lives under ``root``."""
        return root / f"{self.runtime}-{self.precision}-{self.digest()}"


def cached_export(root: Path, key: ExportKey, build: Callable[[Path], None]) -> Path:
    """The folder of ``key``'s entry, running ``build(folder)`` first when there is none."""
    folder = key.folder(root)
    stamp = folder / "key.json"
    if stamp.is_file():
        if json.loads(stamp.read_text()) == asdict(key):
            return folder
        # A digest collision or a hand-edited entry: never trust it.
        log.warning("export cache entry %s does not match its key: rebuilding it", folder)
        shutil.rmtree(folder, ignore_errors=True)
    root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=root))
    try:
        log.info("exporting the model for %s %s into %s", key.runtime, key.precision, folder)
        build(scratch)
        (scratch / "key.json").write_text(json.dumps(asdict(key), sort_keys=True, indent=1))
        try:
            scratch.rename(folder)
        except OSError:
            # Another process finished the same entry first: theirs is as good as ours.
            if not (folder / "key.json").is_file():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return folder
