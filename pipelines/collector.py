"""Pace CPython's cyclic garbage collector during ingestion runs.

A run allocates about twenty container objects per record (rows, dicts, assets, points) and
keeps a few thousand records in flight between its stages. At CPython's default pace (a young
collection every 700 allocations) the collector re-scans those in-flight batches every few
records: about 3 us a record, a tenth of the pipeline's own time per record without a model.
Almost nothing a run allocates is cyclic (refcounting frees it), so while any run is going the
young-generation threshold is raised to :data:`RUN_THRESHOLD` (never lowered), and put back
when the last concurrent run ends, unless someone else changed it meanwhile.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

RUN_THRESHOLD = 20_000
"""Allocations between young collections during a run (CPython's default is 700)."""

_lock = threading.Lock()
_runs = 0
_saved: tuple[int, ...] | None = None
_ours: tuple[int, ...] | None = None


@contextmanager
def paced_collector() -> Iterator[None]:
    """Collect cyclic garbage less often for the duration (re-entrant, thread-safe)."""
    global _runs, _saved, _ours
    with _lock:
        if _runs == 0:
            current = gc.get_threshold()
            if current[0] and current[0] < RUN_THRESHOLD:  # 0: the collector is disabled
                _saved, _ours = current, (RUN_THRESHOLD, *current[1:])
                gc.set_threshold(*_ours)
        _runs += 1
    try:
        yield
    finally:
        with _lock:
            _runs -= 1
            if _runs == 0 and _saved is not None:
                if gc.get_threshold() == _ours:  # not changed by anyone else since
                    gc.set_threshold(*_saved)
                _saved = _ours = None
