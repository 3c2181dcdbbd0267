"""Run summaries and dead letters: every object is accounted for."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field

from mmingest.schemas.embedding import EmbedderUsage
from mmingest.schemas.errors import MmingestError


class Stage:
    """Where in the pipeline an object failed."""

    LIST = "list"
    READ = "read"
    DECODE = "decode"
    EMBED = "embed"
    WRITE = "write"


class Failure(BaseModel):
    """One object that did not land in the store, and why (a dead letter)."""

    uri: str
    stage: str
    error_type: str
    reason: str
    message: str
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    tenant: str | None = None
    """The tenant whose run failed (None: no tenant), so one tenant's retry leaves the others'
    records alone."""

    @classmethod
    def of(cls, uri: str, stage: str, error: BaseException) -> Failure:
        """Describe ``error`` raised while processing ``uri`` at ``stage``."""
        if isinstance(error, MmingestError):
            return cls(
                uri=uri,
                stage=stage,
                error_type=type(error).__name__,
                reason=error.reason,
                message=error.message,
            )
        return cls(
            uri=uri,
            stage=stage,
            error_type=type(error).__name__,
            reason="unexpected_error",
            message=str(error) or type(error).__name__,
        )


IGNORED_EXAMPLES = 20
"""How many ignored objects a summary names."""
_ADDITIVE = (
    "seen",
    "written",
    "new",
    "changed",
    "unchanged",
    "ignored",
    "failed",
    "deleted",
    "provider_requests",
    "cache_hits",
    "cache_misses",
)


class RunSummary(BaseModel):
    """Counts of one ingestion run. ``seen == written + skipped + failed`` always holds.

    Counts are of *items*: an image, a PDF page or a product record (a document or catalog
    that cannot be opened is one failed item; an unchanged document one unchanged item).
    ``skipped`` breaks down into ``unchanged`` (already stored with the same content) and
    ``ignored`` (objects that are not inputs of this run, e.g. a ``.csv`` in an image folder);
    ``failures`` lists every failed item with its reason; ``deleted`` counts stale points
    removed (pages beyond a shortened document's new length). ``new`` and ``changed`` count
    items that had to be (re)embedded, as classified before embedding. ``billed_units`` are the
    provider's units this run was charged for (``input_tokens``, ``images``...), with the
    provider requests made and the embedding cache's hits and misses beside them.
    """

    collection: str
    dry_run: bool = False
    seen: int = 0
    written: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    ignored: int = 0
    failed: int = 0
    elapsed_s: float = 0.0
    provider_requests: int = 0
    billed_units: dict[str, int] = Field(default_factory=dict)
    cache_hits: int = 0
    cache_misses: int = 0
    failures: list[Failure] = Field(default_factory=list)
    warnings: list[Failure] = Field(
        default_factory=list,
        description="Problems that did not stop an item from landing (e.g. a product image "
        "that could not be fetched while its caption vector was stored).",
    )
    deleted: int = 0
    images_lost: dict[str, int] = Field(
        default_factory=dict,
        description="Records that landed without their image (caption only), counted per "
        "reason (e.g. unsafe_reference, object_vanished); each reference is also a warning.",
    )
    ignored_examples: list[str] = Field(default_factory=list)
    estimate: dict[str, int] = Field(
        default_factory=dict,
        description="Dry runs: images, texts and text characters that would be embedded.",
    )
    # Progress (not part of the summary's data): listed objects, once the listing is complete,
    # and how many of them are done; a progress display shows a total and an ETA from these.
    listed: int | None = Field(None, exclude=True)
    objects_done: int = Field(0, exclude=True)

    def add_usage(self, usage: EmbedderUsage) -> None:
        """Count an embedder's usage during this run (a :meth:`EmbedderUsage.since` delta)."""
        self.provider_requests += usage.requests
        for unit, amount in usage.billed_units.items():
            self.billed_units[unit] = self.billed_units.get(unit, 0) + amount
        self.cache_hits += usage.cache_hits
        self.cache_misses += usage.cache_misses

    def absorb(self, part: RunSummary) -> None:
        """Add the counts of ``part`` (a unit of the same run, done elsewhere) to this summary.

        Wall time is not additive: whoever schedules the units sets ``elapsed_s``.
        """
        for name in _ADDITIVE:
            setattr(self, name, getattr(self, name) + getattr(part, name))
        self.failures += part.failures
        self.warnings += part.warnings
        room = IGNORED_EXAMPLES - len(self.ignored_examples)
        self.ignored_examples += part.ignored_examples[: max(room, 0)]
        for bucket, extra in (
            (self.billed_units, part.billed_units),
            (self.estimate, part.estimate),
            (self.images_lost, part.images_lost),
        ):
            for unit, amount in extra.items():
                bucket[unit] = bucket.get(unit, 0) + amount

    @property
    def skipped(self) -> int:
        """Objects not written because they were unchanged or not inputs of this pipeline."""
        return self.unchanged + self.ignored

    @property
    def objects_per_s(self) -> float:
        """Objects seen per second of wall time."""
        return self.seen / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def balanced(self) -> bool:
        """Whether every seen item is accounted for.

        In a dry run nothing is written: the new and changed items stand where written would.
        """
        landed = self.new + self.changed if self.dry_run else self.written
        return self.seen == landed + self.skipped + self.failed
