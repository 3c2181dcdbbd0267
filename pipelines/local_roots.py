"""The local folders ingested into each collection: where display may read local pictures.

A point's URI alone never authorises a read (a payload can be tampered with), so display reads
local files only inside folders somebody chose: ``source.allowed_local_roots``, and the folders
ingested into the collection through this state directory, which a run records here when it
starts. ``mmingest ingest ./pics`` followed by ``mmingest serve`` (or ``Retriever.from_settings``)
therefore shows the pictures of ``./pics`` and nothing outside it, with no setting to write.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import tempfile
from pathlib import Path

from mmingest.schemas.config import SourceConfig
from mmingest.schemas.settings import Settings

FILE_NAME = "local-roots.json"

log = logging.getLogger(__name__)


_MAX_BYTES = 1024 * 1024


def _read(path: Path) -> dict[str, list[str]]:
    try:
        # A regular file of a sane size only: never block on a FIFO or read /dev/zero.
        info = path.lstat()
        if not stat.S_ISREG(info.st_mode) or info.st_size > _MAX_BYTES:
            raise ValueError("not a regular file of at most 1 MiB")
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        log.warning("ignoring %s (%s): local pictures of earlier runs may not display", path, error)
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        str(name): [str(root) for root in roots if isinstance(root, str)]
        for name, roots in data.items()
        if isinstance(roots, list)
    }


def remember_local_root(state_dir: Path, collection: str, folder: Path) -> None:
    """Record that ``folder`` is ingested into ``collection`` (idempotent, atomic).

    A state directory that cannot be written costs only the display of these pictures, never
    the run: it is logged and the run goes on.
    """
    path = Path(state_dir) / FILE_NAME
    root = str(Path(folder).expanduser().resolve())
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = _read(path)
        roots = data.setdefault(collection, [])
        if root in roots:
            return
        roots.append(root)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{FILE_NAME}.")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                json.dump(data, file, indent=1, sort_keys=True)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as error:
        log.warning(
            "could not record %s in %s (%s): its pictures display only once it is listed in "
            "source.allowed_local_roots",
            root,
            path,
            error,
        )


def ingested_local_roots(state_dir: Path, collection: str) -> list[Path]:
    """The local folders recorded for ``collection`` in ``state_dir``."""
    return [Path(root) for root in _read(Path(state_dir) / FILE_NAME).get(collection, [])]


def display_source_config(settings: Settings) -> SourceConfig:
    """The source settings display reads pictures with: the configured ones, with the folders
    ingested into this collection added to ``allowed_local_roots``."""
    ingested = ingested_local_roots(settings.state_dir, settings.collection)
    if not ingested:
        return settings.source
    roots = list(dict.fromkeys([*settings.source.allowed_local_roots, *ingested]))
    return settings.source.model_copy(update={"allowed_local_roots": roots})
