"""Terminal output of the CLI: progress, run summaries, search hits, doctor checks."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from mmingest.connectors.sources import scheme_of
from mmingest.connectors.sources.local import path_from_uri
from mmingest.pipelines.run import Deletions, SyncReport
from mmingest.pipelines.text import terminal_safe
from mmingest.schemas.query import Hit
from mmingest.schemas.summary import Failure, RunSummary

_FAILURES_SHOWN = 20


class IngestProgress:
    """A live line with the running counts of an ingestion; once the listing is complete, a
    bar with the total, the percentage done and the time remaining (objects listed)."""

    def __init__(self, progress: Progress, task: TaskID) -> None:
        self._progress = progress
        self._task = task

    def __call__(self, summary: RunSummary) -> None:
        if summary.listed is not None:  # before that, the total is unknown: a pulsing bar
            self._progress.update(
                self._task,
                total=summary.listed,
                completed=min(summary.objects_done, summary.listed),
            )
        self._progress.update(
            self._task,
            description=(
                f"seen {summary.seen:,} · written {summary.written:,} · skipped "
                f"{summary.skipped:,} · failed {summary.failed:,} · "
                f"{summary.objects_per_s:,.1f} obj/s"
            ),
        )


@contextmanager
def ingest_progress(console: Console, *, enabled: bool) -> Iterator[IngestProgress | None]:
    """A progress display on ``console`` (None when disabled)."""
    if not enabled:
        yield None
        return
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(bar_width=20),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        yield IngestProgress(progress, progress.add_task("listing…", total=None))


def summary_table(summary: RunSummary, deletions: Deletions | None = None) -> Table:
    """The closing summary of a run (a dry run's plan: what would be written and deleted)."""
    title = f"{'plan for' if summary.dry_run else 'ingest into'} {summary.collection!r}"
    table = Table(title=title, show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("seen", f"{summary.seen:,}")
    if summary.dry_run:
        table.add_row("would add", f"{summary.new:,}")
        table.add_row("would update", f"{summary.changed:,}")
        estimate = ", ".join(f"{v:,} {k}" for k, v in sorted(summary.estimate.items()))
        table.add_row("to embed", estimate or "nothing")
    else:
        table.add_row("written", written_line(summary))
    table.add_row(
        "skipped",
        f"{summary.skipped:,} ({summary.unchanged:,} unchanged, {summary.ignored:,} not inputs)",
    )
    table.add_row("failed", f"{summary.failed:,}")
    if deletions is not None and (deletions.vanished_ids or deletions.guarded):
        verb = "would delete" if summary.dry_run else "vanished"
        table.add_row(
            verb,
            f"{len(deletions.vanished_ids):,} points of {deletions.vanished_sources:,} objects",
        )
    if summary.deleted:
        table.add_row("deleted", f"{summary.deleted:,} points")
    if summary.warnings:
        table.add_row("warnings", f"{len(summary.warnings):,}")
    if summary.images_lost:
        reasons = ", ".join(f"{n:,} {shown(why)}" for why, n in sorted(summary.images_lost.items()))
        lost = sum(summary.images_lost.values())
        table.add_row("without image", f"{lost:,} records ({reasons})")
    table.add_row("time", f"{summary.elapsed_s:,.1f} s")
    table.add_row("rate", f"{summary.objects_per_s:,.1f} objects/s")
    table.add_row("provider", usage_line(summary))
    if summary.cache_hits or summary.cache_misses:
        table.add_row(
            "cache", f"{summary.cache_hits:,} hits, {summary.cache_misses:,} misses (embeddings)"
        )
    return table


def written_line(summary: RunSummary) -> str:
    """``written`` in the same unit as its breakdown: the new and changed items it was to
    write, and how many of them did not land (never "written 0 (3 new, 0 changed)")."""
    due = summary.new + summary.changed
    split = f"{summary.new:,} new, {summary.changed:,} changed"
    if summary.written == due:
        return f"{summary.written:,} ({split})"
    return f"{summary.written:,} of {due:,} ({split}; {due - summary.written:,} not written)"


def usage_line(summary: RunSummary) -> str:
    """Provider requests and billed units, e.g. ``12 requests · 4,096 input_tokens``."""
    parts = [f"{summary.provider_requests:,} requests"]
    parts += [f"{amount:,} {unit}" for unit, amount in sorted(summary.billed_units.items())]
    return " · ".join(parts)


def _failure_table(title: str, failures: Sequence[Failure]) -> Table:
    table = Table(title=title, show_lines=False)
    for column in ("object", "stage", "reason", "message"):
        table.add_column(column, overflow="fold")
    for failure in failures[:_FAILURES_SHOWN]:
        table.add_row(
            shown(failure.uri), shown(failure.stage), shown(failure.reason), shown(failure.message)
        )
    return table


def print_report(console: Console, report: SyncReport, *, dead_letters: str | None) -> None:
    """Print a run's summary, what reconciliation found, and every warning and failure."""
    print_summary(console, report.summary, dead_letters=dead_letters, deletions=report.deletions)
    if report.deletions.guarded:
        console.print(f"Nothing was deleted: {report.deletions.guarded}", soft_wrap=True)


def report_json(report: SyncReport) -> dict[str, Any]:
    """A run's summary and reconciliation as plain data for ``--json``."""
    from mmingest.flows.render_verify import reconcile_json

    data = summary_json(report.summary)
    data["reconcile"] = reconcile_json(report)
    return data


def print_summary(
    console: Console,
    summary: RunSummary,
    *,
    dead_letters: str | None,
    deletions: Deletions | None = None,
) -> None:
    """Print the summary, then each warning and failure with its reason."""
    console.print(summary_table(summary, deletions))
    sections = (
        ("warnings (these items landed)", summary.warnings),
        ("failed items", summary.failures),
    )
    for title, items in sections:
        if not items:
            continue
        console.print(_failure_table(title, items))
        hidden = len(items) - _FAILURES_SHOWN
        if hidden > 0:
            console.print(f"… and {hidden:,} more.")
    if summary.failures and dead_letters:
        console.print(f"Every failure is recorded in {shown(dead_letters)}", soft_wrap=True)


def summary_json(summary: RunSummary) -> dict[str, Any]:
    """The summary as plain data for ``--json``."""
    data = summary.model_dump(mode="json")
    data.update(skipped=summary.skipped, objects_per_s=round(summary.objects_per_s, 3))
    return data


def hits_table(hits: Sequence[Hit]) -> Table:
    """Search results, best first."""
    table = Table(show_lines=False)
    table.add_column("#", justify="right")
    table.add_column("score", justify="right")
    table.add_column("kind")
    table.add_column("source", overflow="fold")
    table.add_column("caption", overflow="fold")
    for rank, hit in enumerate(hits, start=1):
        source = short_path(hit.source_uri or "")
        if hit.page is not None:
            source += f" (page {hit.page})"
        table.add_row(
            str(rank),
            f"{hit.score:.4f}",
            shown(hit.kind or ""),
            shown(source),
            shown(hit.caption or ""),
        )
    return table


def short_path(uri: str, *, width: int = 48) -> str:
    """A source URI as a table shows it: a local file relative to the working directory (or
    ``~``), and a long path cut to its bucket or root and last two parts (``--json`` keeps the
    full URI)."""
    if scheme_of(uri) != "file":
        scheme, _, rest = uri.partition("://")
        parts = rest.split("/")
        if len(uri) <= width or len(parts) <= 3:
            return uri
        return f"{scheme}://{parts[0]}/…/{'/'.join(parts[-2:])}"
    path = path_from_uri(uri)
    for base, shown in ((Path.cwd(), ""), (Path.home(), "~/")):
        if path.is_relative_to(base):
            path = Path(shown + str(path.relative_to(base)))
            break
    if len(str(path)) <= width or len(path.parts) <= 3:
        return str(path)
    return str(Path("…", *path.parts[-2:]))


def hits_json(hits: Sequence[Hit]) -> str:
    """Search results as JSON for scripts."""
    rows = [
        {
            "rank": rank,
            "id": hit.id,
            "score": hit.score,
            "kind": hit.kind,
            "source_uri": hit.source_uri,
            "page": hit.page,
            "caption": hit.caption,
            "payload": hit.payload,
        }
        for rank, hit in enumerate(hits, start=1)
    ]
    return json_safe_for_terminal(json.dumps(rows, indent=2, ensure_ascii=False))


# JSON escapes C0 controls itself; DEL, C1 controls and bidi overrides pass through raw with
# ensure_ascii=False (which keeps readable non-ASCII text) and only occur inside strings.
_RAW_IN_JSON = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def json_safe_for_terminal(document: str) -> str:
    """A JSON text with the control characters JSON leaves raw written as ``\\uXXXX`` escapes
    (the same JSON value, harmless on a terminal)."""
    return _RAW_IN_JSON.sub(lambda match: f"\\u{ord(match.group()):04x}", document)


def shown(text: str) -> str:
    """Object content or keys made safe to print: control characters made visible
    (:func:`~mmingest.pipelines.text.terminal_safe`) and Rich markup escaped."""
    return escape(terminal_safe(text))
