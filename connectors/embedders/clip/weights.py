"""The content identity of a local checkpoint: a hash of the files that decide its vectors.

A model's folder name says nothing about its weights (a fine-tuned checkpoint saved over
``./models/clip`` keeps the name), so the collection spec and the embedding cache key record
this digest. Hashing a multi-GB checkpoint takes seconds, so each file's digest is kept for
as long as its path, size and modification time stay the same: in this process, and in a
small JSON file (``embedder.weights_digests``) across processes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
from pathlib import Path

log = logging.getLogger(__name__)

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


def _memo_key(key: tuple[str, int, int]) -> str:
    return f"{key[0]}|{key[1]}|{key[2]}"


def _load_memo(memo: Path | None) -> set[tuple[str, int, int]]:
    """Add the memo file's digests to this process's; returns the keys the file holds."""
    if memo is None or not memo.is_file():
        return set()
    try:
        stored = json.loads(memo.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        log.debug("ignoring the weights digest file %s: %s", memo, error)
        return set()
    if not isinstance(stored, dict):
        return set()
    keys: set[tuple[str, int, int]] = set()
    with _lock:
        for text, digest in stored.items():
            path, _, mtime = str(text).rpartition("|")
            path, _, size = path.rpartition("|")
            if path and size.isdigit() and mtime.isdigit() and isinstance(digest, str):
                key = (path, int(size), int(mtime))
                _digests.setdefault(key, digest)
                keys.add(key)
    return keys


def _current(key: tuple[str, int, int]) -> bool:
    try:
        stat = os.stat(key[0])
    except OSError:
        return False
    return (stat.st_size, stat.st_mtime_ns) == key[1:]


def _save_memo(memo: Path | None) -> None:
    if memo is None:
        return
    with _lock:
        known = dict(_digests)
    # Keep only digests of files as they are now: a replaced checkpoint's old entries go.
    data = {_memo_key(key): digest for key, digest in known.items() if _current(key)}
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=memo.parent, prefix=f".{memo.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
        os.replace(tmp, memo)
    except OSError as error:  # a lost memo costs one more hashing, never correctness
        log.debug("cannot write the weights digest file %s: %s", memo, error)


def _cached_file_digest(path: Path) -> tuple[str, tuple[str, int, int]]:
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    with _lock:
        known = _digests.get(key)
    if known is not None:
        return known, key
    digest = _file_digest(path)
    with _lock:
        _digests[key] = digest
    return digest, key


def weights_digest(directory: Path, *, memo: Path | None = None) -> str:
    """A SHA-256 over the names and contents of the checkpoint files in ``directory``
    (the first 16 hex digits: enough to tell checkpoints apart, short enough to show).

    ``memo`` is a JSON file of digests by path, size and modification time, read before and
    updated after hashing, so other processes skip files already hashed."""
    root = Path(directory).expanduser().resolve()
    remembered = _load_memo(memo)
    files = sorted(
        entry
        for entry in root.iterdir()
        if entry.is_file()
        and entry.suffix in _CHECKPOINT_SUFFIXES
        and not entry.name.startswith(".")
    )
    combined = hashlib.sha256()
    unremembered = False
    for entry in files:
        digest, key = _cached_file_digest(entry)
        unremembered = unremembered or key not in remembered
        combined.update(f"{entry.name}\0{digest}\n".encode())
    if unremembered:
        _save_memo(memo)
    return combined.hexdigest()[:16]


def checkpoint_identity(source: str, model: object, *, memo: Path | None = None) -> str | None:
    """What identifies the weights of a loaded checkpoint: the digest of a local folder, or
    the hub commit a cached/downloaded model came from (the hub addresses content by commit).
    None when neither is known."""
    if os.path.isdir(source):
        return weights_digest(Path(source), memo=memo)
    config = getattr(model, "config", None)
    commit = getattr(config, "_commit_hash", None)
    return f"hub-{commit}" if isinstance(commit, str) and commit else None
