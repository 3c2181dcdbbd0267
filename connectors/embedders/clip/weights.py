"""The content identity of a local checkpoint: a hash of the files that decide its vectors.

A model's folder name says nothing about its weights (a fine-tuned checkpoint saved over
``./models/clip`` keeps the name), so the collection spec and the embedding cache key record
this digest. Hashing a multi-GB checkpoint takes seconds, so each file's digest is kept for
as long as its path, size and modification time stay the same (for this process).
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

# What from_pretrained reads for a CLIP-family model: weights, configuration and the
# tokenizer/processor files (vocabularies, merges, sentencepiece models).
_CHECKPOINT_SUFFIXES = frozenset(
    {".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".json", ".txt", ".model"}
)
_CHUNK = 1 << 20

_digests: dict[tuple[str, int, int], str] = {}
_lock = threading.Lock()


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _cached_file_digest(path: Path) -> str:
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    with _lock:
        known = _digests.get(key)
    if known is not None:
        return known
    digest = _file_digest(path)
    with _lock:
        _digests[key] = digest
    return digest


def weights_digest(directory: Path) -> str:
    """A SHA-256 over the names and contents of the checkpoint files in ``directory``
    (the first 16 hex digits: enough to tell checkpoints apart, short enough to show)."""
    root = Path(directory).expanduser().resolve()
    files = sorted(
        entry
        for entry in root.iterdir()
        if entry.is_file()
        and entry.suffix in _CHECKPOINT_SUFFIXES
        and not entry.name.startswith(".")
    )
    combined = hashlib.sha256()
    for entry in files:
        combined.update(f"{entry.name}\0{_cached_file_digest(entry)}\n".encode())
    return combined.hexdigest()[:16]


def checkpoint_identity(source: str, model: object) -> str | None:
    """What identifies the weights of a loaded checkpoint: the digest of a local folder, or
    the hub commit a cached/downloaded model came from (the hub addresses content by commit).
    None when neither is known."""
    if os.path.isdir(source):
        return weights_digest(Path(source))
    config = getattr(model, "config", None)
    commit = getattr(config, "_commit_hash", None)
    return f"hub-{commit}" if isinstance(commit, str) and commit else None
