"""The suite's reliability figures: faults injected, bad inputs tried, fuzz cases, objects lost.

Fault and bad-input tests take the ``ledger`` fixture (``tests/conftest.py``) and record what
they inject and the summaries of the runs they observe; the terminal summary prints the totals.
An observed run that lost objects fails the test that observed it, there and then.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from mmingest.schemas.summary import RunSummary


def lost_objects(summary: RunSummary | Mapping[str, Any]) -> int:
    """Items seen but neither written, skipped nor failed (``seen - written - skipped -
    failed``; in a dry run the items that would be written stand for written)."""
    if isinstance(summary, RunSummary):
        summary = summary.model_dump()
    landed = summary["new"] + summary["changed"] if summary.get("dry_run") else summary["written"]
    skipped = summary["unchanged"] + summary["ignored"]
    return int(summary["seen"] - landed - skipped - summary["failed"])


@dataclass
class Ledger:
    """Totals for the whole session (thread-safe: runs report from worker threads too)."""

    faults_injected: int = 0
    bad_inputs_tried: int = 0
    fuzz_cases: int = 0
    runs_observed: int = 0
    objects_seen: int = 0
    objects_lost: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def faults(self, count: int = 1) -> None:
        """``count`` faults were injected (an error answer, a dropped connection...)."""
        with self._lock:
            self.faults_injected += count

    def bad_inputs(self, count: int = 1) -> None:
        """``count`` bad or hostile inputs were fed to a run."""
        with self._lock:
            self.bad_inputs_tried += count

    def fuzz(self, count: int = 1) -> None:
        """``count`` generated cases (mutated objects, random provider replies) were tried."""
        with self._lock:
            self.fuzz_cases += count

    def outcome(self, summary: RunSummary | Mapping[str, Any]) -> None:
        """Account for an observed run; fails the calling test if it lost objects."""
        lost = lost_objects(summary)
        with self._lock:
            self.runs_observed += 1
            self.objects_seen += int(
                summary["seen"] if isinstance(summary, Mapping) else summary.seen
            )
            self.objects_lost += lost
        if lost:
            pytest.fail(f"{lost} objects lost: seen but neither written, skipped nor failed")

    def line(self) -> str:
        """The figures as one line for the terminal summary."""
        return (
            f"reliability: faults injected {self.faults_injected}, bad inputs tried "
            f"{self.bad_inputs_tried}, fuzz cases {self.fuzz_cases}, objects lost "
            f"{self.objects_lost} "
            f"({self.runs_observed} runs, {self.objects_seen} objects observed)"
        )


LEDGER = pytest.StashKey[Ledger]()
