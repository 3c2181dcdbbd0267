"""Dead letters: a durable record of every object that did not land, with its reason."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol, TypeVar

from mmingest.schemas.collection import validate_collection_name
from mmingest.schemas.errors import StorageFault
from mmingest.schemas.summary import Failure

T = TypeVar("T")


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

    def precheck(self) -> None:
        """Raise :class:`StorageFault` now if failures could not be recorded (the path is a
        directory, read-only, or its folder cannot be made), before any work is done."""
        self._io("open", lambda: self._append(""))

    def record(self, failure: Failure) -> None:
        """Append ``failure`` to the file (:class:`StorageFault` when it cannot be written:
        a failure that cannot be recorded would be lost, so the run stops)."""
        line = failure.model_dump_json() + "\n"
        self._io("write", lambda: self._append(line))

    def _append(self, text: str) -> None:
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())

    def replace(self, failures: Iterable[Failure]) -> None:
        """Rewrite the file with ``failures`` (atomically: a crash keeps the old file)."""
        lines = "".join(failure.model_dump_json() + "\n" for failure in failures)

        def rewrite() -> None:
            with self._lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                temporary = self.path.with_suffix(".jsonl.tmp")
                with temporary.open("w", encoding="utf-8") as handle:
                    handle.write(lines)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temporary, self.path)

        self._io("rewrite", rewrite)

    def read(self) -> list[Failure]:
        """Every failure recorded so far."""

        def read_lines() -> list[Failure]:
            if not self.path.exists():
                return []
            with self.path.open(encoding="utf-8") as handle:
                return [Failure.model_validate_json(line) for line in handle if line.strip()]

        return self._io("read", read_lines)

    def _io(self, action: str, operation: Callable[[], T]) -> T:
        try:
            return operation()
        except OSError as error:
            cause = error.strerror or type(error).__name__
            raise StorageFault(
                f"cannot {action} the dead-letter file {self.path}: {cause}; failures of this "
                "run would be lost, so nothing was processed past this point: fix the path "
                "(or MMINGEST_STATE_DIR) and run again"
            ) from error


def object_uri(failure_uri: str) -> str:
    """The object a failure belongs to (``doc.pdf#page=3`` and ``catalog.csv#row=9`` become
    ``doc.pdf`` and ``catalog.csv``)."""
    return failure_uri.split("#", 1)[0].split(" -> ", 1)[0]
