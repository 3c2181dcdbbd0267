"""On-disk layout of a Qdrant Edge store: one shard per collection, plus metadata and a lock.

```
<path>/
  .lock                         held (flock) by the one process using the store
  aliases.json                  {"alias": "collection"}, replaced atomically on every change
  collections/<name>/shard/     the EdgeShard
  collections/<name>/spec.json  the CollectionSpec and keyword model it was created with
```

A collection exists when its ``spec.json`` does: it is written last on create and removed
first on drop, so a crash in between leaves a directory that is ignored (and reused).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, TextIO

from mmingest.connectors.stores.records import spec_from_record, spec_record
from mmingest.schemas.collection import CollectionSpec, validate_collection_name
from mmingest.schemas.errors import ConfigError, StorageFault, StoreLocked


def write_json_atomic(path: Path, data: Any) -> None:
    """Write ``data`` as JSON so readers see the old or the new file, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class StoreDirectory:
    """The directory of one Qdrant Edge store, locked for this process while open."""

    def __init__(self, path: Path) -> None:
        self.path = path.expanduser().resolve()
        self._lock_handle: TextIO | None = None

    def lock(self) -> None:
        """Take the store for this process or raise :class:`StoreLocked`."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            handle = open(self.path / ".lock", "a+", encoding="utf-8")  # noqa: SIM115
        except OSError as error:
            raise ConfigError(f"cannot use {self.path} as a store directory: {error}") from error
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise StoreLocked(
                f"the Qdrant Edge store {self.path} is in use by {holder}; Qdrant Edge allows one "
                "process per store directory: wait for it, stop it, or set "
                "MMINGEST_STORE__PATH to another directory"
            ) from error
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        self._lock_handle = handle

    def check_free_space(self, min_free_bytes: int, action: str) -> None:
        """Raise :class:`StorageFault` unless the store's disk has ``min_free_bytes`` free.

        The engine memory-maps sparse files and fills them as data arrives; a page it touches
        on a full disk cannot be backed, and the kernel kills the process with SIGBUS (no
        exception, no message). Checking the headroom before every write turns that into an
        error while the process can still report it.
        """
        if min_free_bytes <= 0:
            return
        try:
            stats = os.statvfs(self.path)
        except OSError as error:
            raise StorageFault(
                f"cannot {action}: the store directory {self.path} is not usable ({error})"
            ) from error
        free = stats.f_bavail * stats.f_frsize
        if free < min_free_bytes:
            raise StorageFault(
                f"cannot {action}: only {free / 2**20:.1f} MiB free on the disk of the store "
                f"directory {self.path}, under store.min_free_mb = {min_free_bytes / 2**20:.0f} "
                "MiB; free some space or move MMINGEST_STORE__PATH to a bigger disk"
            )

    def unlock(self) -> None:
        """Release the store."""
        if self._lock_handle is not None:
            fcntl.flock(self._lock_handle.fileno(), fcntl.LOCK_UN)
            self._lock_handle.close()
            self._lock_handle = None

    def collection_dir(self, name: str) -> Path:
        """Directory of collection ``name`` (validated: it cannot leave the store)."""
        return self.path / "collections" / validate_collection_name(name)

    def shard_dir(self, name: str) -> Path:
        """Directory of the EdgeShard of collection ``name``."""
        return self.collection_dir(name) / "shard"

    def collection_names(self) -> list[str]:
        """Collections that have a recorded spec."""
        root = self.path / "collections"
        if not root.is_dir():
            return []
        return sorted(entry.name for entry in root.iterdir() if (entry / "spec.json").is_file())

    def read_meta(self, name: str) -> dict[str, Any] | None:
        """The recorded metadata of collection ``name``, or None if it does not exist."""
        path = self.collection_dir(name) / "spec.json"
        if not path.is_file():
            return None
        meta: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return meta

    def read_spec(self, name: str) -> CollectionSpec | None:
        """The recorded spec of collection ``name``, or None."""
        return spec_from_record(self.read_meta(name), name=name)

    def write_meta(self, name: str, spec: CollectionSpec, keyword_model: dict[str, Any]) -> None:
        """Record the spec of a newly created collection."""
        meta = spec_record(spec, keyword_model=keyword_model)
        write_json_atomic(self.collection_dir(name) / "spec.json", meta)

    def remove_collection(self, name: str) -> None:
        """Delete collection ``name``: its spec first (it no longer exists), then its files."""
        directory = self.collection_dir(name)
        (directory / "spec.json").unlink(missing_ok=True)
        shutil.rmtree(directory, ignore_errors=True)

    def read_aliases(self) -> dict[str, str]:
        """The alias file's mapping (empty when there is none)."""
        path = self.path / "aliases.json"
        if not path.is_file():
            return {}
        aliases: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
        return aliases

    def write_aliases(self, aliases: dict[str, str]) -> None:
        """Replace the alias file atomically: readers see the old or the new mapping."""
        write_json_atomic(self.path / "aliases.json", aliases)
