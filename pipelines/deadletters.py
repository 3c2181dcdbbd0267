"""Dead letters: a durable record of every object that did not land, with its reason."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from mmingest.schemas.collection import validate_collection_name
from mmingest.schemas.summary import Failure


class DeadLetterSink(Protocol):
    """Where failures are recorded as they happen."""

    def record(self, failure: Failure) -> None:
        """Persist one failure."""
        ...


class JsonlDeadLetters:
    """Appends failures as JSON lines to ``<directory>/<collection>.jsonl``.

    Each line is flushed as written, so a crash loses no recorded failure.
    """

    def __init__(self, directory: Path, collection: str) -> None:
        self.path = directory / f"{validate_collection_name(collection)}.jsonl"
        self._lock = threading.Lock()

    def record(self, failure: Failure) -> None:
        """Append ``failure`` to the file."""
        line = failure.model_dump_json() + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line)

    def replace(self, failures: Iterable[Failure]) -> None:
        """Rewrite the file with ``failures`` (atomically: a crash keeps the old file)."""
        lines = "".join(failure.model_dump_json() + "\n" for failure in failures)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_suffix(".jsonl.tmp")
            temporary.write_text(lines, encoding="utf-8")
            os.replace(temporary, self.path)

    def read(self) -> list[Failure]:
        """Every failure recorded so far."""
        if not self.path.exists():
            return []
        with self.path.open(encoding="utf-8") as handle:
            return [Failure.model_validate_json(line) for line in handle if line.strip()]


def object_uri(failure_uri: str) -> str:
    """The object a failure belongs to (``doc.pdf#page=3`` and ``catalog.csv#row=9`` become
    ``doc.pdf`` and ``catalog.csv``)."""
    return failure_uri.split("#", 1)[0].split(" -> ", 1)[0]
