"""Units of work of a :class:`~mmingest.pipelines.run.RunSpec`, for schedulers: list them, run
some of them in any process, fold their results in, reconcile at the end (see
:mod:`mmingest.pipelines.run` for the run model and its retry layers)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from mmingest.connectors.sources.base import Source
from mmingest.pipelines.ingest import CatalogTask, DocumentTask, IgnoredTask, ImageChunk, Task, plan
from mmingest.pipelines.reconcile import Evidence
from mmingest.pipelines.run import Backends, RunSpec, SyncReport, ingestion_for, reconcile
from mmingest.schemas.objects import ObjectInfo
from mmingest.schemas.summary import RunSummary

Unit = Task
"""A unit of work: a batch of images, one PDF, one catalog (or objects that are not inputs)."""


@dataclass
class UnitResult:
    """A unit's summary and what it saw, for the run's reconciliation."""

    summary: RunSummary
    record_ids: list[str] = field(default_factory=list)
    shielded: list[str] = field(default_factory=list)


def unit_name(unit: Unit) -> str:
    """A short, readable name of a unit: its kind and key range."""
    if isinstance(unit, ImageChunk):
        keys = [candidate.image.key for candidate in unit.candidates]
        span = keys[0] if len(keys) == 1 else f"{keys[0]}..{keys[-1]}"
        return f"images {span} ({len(keys)})"
    if isinstance(unit, DocumentTask):
        return f"pdf {unit.obj.key}"
    if isinstance(unit, CatalogTask):
        return f"products {unit.obj.key}"
    assert isinstance(unit, IgnoredTask)
    return f"not inputs ({len(unit.items)})"


def run_unit(spec: RunSpec, backends: Backends, units: Sequence[Unit]) -> UnitResult:
    """Extract, embed and write ``units`` of ``spec`` in this process (any process)."""
    source, _ = spec.open(backends.source_config)
    evidence = Evidence(keep_records=True)
    try:
        summary = ingestion_for(spec, backends, source, evidence).run_tasks(units)
    finally:
        source.close()
    return UnitResult(summary, evidence.record_list, sorted(evidence.shielded))


class Scheduled:
    """A run whose units are scheduled elsewhere: lists them, folds their results in, and
    finishes with reconciliation. The scheduler (a Prefect flow) only moves units around."""

    def __init__(self, spec: RunSpec, source: Source, prefix: str) -> None:
        self.spec = spec
        self.source = source
        self.prefix = prefix
        self.evidence = Evidence()
        self.summary = RunSummary(collection=spec.collection, dry_run=spec.options.dry_run)

    def units(self) -> Iterator[Unit]:
        """The units of work, in listing order, recording what was listed."""
        self.source.precheck()
        yield from plan(
            self.evidence.witness(self._counted(self.source.list(self.prefix))),
            kinds=frozenset(self.spec.kinds),
            config=self.spec.ingest,
            only=self.spec.options.only,
        )

    def _counted(self, listing: Iterator[ObjectInfo]) -> Iterator[ObjectInfo]:
        listed = 0
        for obj in listing:
            listed += 1
            yield obj
        self.summary.listed = listed

    def add(self, result: UnitResult) -> None:
        """Fold a unit's result into the run's summary and evidence."""
        self.summary.absorb(result.summary)
        self.evidence.saw_records(result.record_ids)
        self.evidence.shield(result.shielded)

    def finish(self, backends: Backends) -> SyncReport:
        """After every unit was added: reconcile when the options ask, and report."""
        self.evidence.complete = True
        report = SyncReport(self.summary)
        if self.spec.options.delete or self.spec.options.dry_run:
            report.deletions = reconcile(
                self.spec, backends, self.source, self.prefix, self.evidence
            )
            self.summary.deleted += report.deletions.deleted
        return report
