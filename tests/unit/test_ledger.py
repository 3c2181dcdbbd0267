"""The reliability ledger: a run that lost objects fails the test that observed it."""

from __future__ import annotations

import pytest

from mmingest.schemas.summary import RunSummary
from tests.support.ledger import Ledger, lost_objects


def test_a_balanced_run_is_counted():
    ledger = Ledger()
    ledger.faults(3)
    ledger.bad_inputs(2)
    ledger.fuzz(40)
    ledger.outcome(RunSummary(collection="c", seen=5, written=2, unchanged=1, ignored=1, failed=1))
    ledger.outcome(
        {
            "seen": 2,
            "written": 0,
            "new": 2,
            "changed": 0,
            "unchanged": 0,
            "ignored": 0,
            "failed": 0,
            "dry_run": True,
        }
    )
    assert ledger.line() == (
        "reliability: faults injected 3, bad inputs tried 2, fuzz cases 40, objects lost 0 "
        "(2 runs, 7 objects observed)"
    )


def test_a_run_that_lost_objects_fails_the_test():
    ledger = Ledger()
    lossy = RunSummary(collection="c", seen=5, written=3, failed=1)
    assert lost_objects(lossy) == 1
    with pytest.raises(pytest.fail.Exception, match="1 objects lost"):
        ledger.outcome(lossy)
    assert "objects lost 1" in ledger.line()
