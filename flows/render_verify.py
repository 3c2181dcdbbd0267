"""``mmingest verify``: the report in the README's terms, missing, stale and orphaned points."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mmingest.pipelines.sync import SyncReport
from mmingest.pipelines.text import terminal_safe


def reconcile_json(report: SyncReport) -> dict[str, Any]:
    """Reconciliation as plain data. A dry run (``verify``) gives what differs now:
    ``missing``, ``stale`` and ``orphaned``. A run that wrote (``sync``, ``verify --fix``)
    gives what it ``found`` and what is still ``remaining`` after it: items that could not be
    written, and orphaned points a guard kept."""
    deletions = report.deletions
    data: dict[str, Any] = {
        "in_scope": deletions.in_scope,
        "vanished": len(deletions.vanished_ids),
        "vanished_objects": deletions.vanished_sources,
        "deleted": deletions.deleted,
        "guarded": deletions.guarded,
    }
    differences = {"missing": report.missing, "stale": report.stale, "orphaned": report.orphaned}
    if report.summary.dry_run:
        return {**data, **differences}
    summary = report.summary
    data["found"] = differences
    data["remaining"] = {
        "not_written": max(0, summary.new + summary.changed - summary.written),
        "orphaned": max(0, report.orphaned - deletions.deleted),
    }
    return data


def verify_table(report: SyncReport, source: str) -> Table:
    """What ``verify`` found: items in the source, and missing, stale and orphaned points."""
    summary = report.summary
    checked = "checked" if summary.dry_run else "repaired"
    table = Table(
        title=f"{checked} {summary.collection!r} against {escape(terminal_safe(source))}",
        show_header=False,
        box=None,
    )
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_column()
    items = summary.new + summary.changed + summary.unchanged
    table.add_row("in source", f"{items:,}", "items (images, PDF pages, products)")
    table.add_row("up to date", f"{summary.unchanged:,}", "points")
    table.add_row("missing", f"{report.missing:,}", "items in the source, not in the store")
    table.add_row("stale", f"{report.stale:,}", "points of items changed since they were written")
    table.add_row("orphaned", f"{report.orphaned:,}", "points whose source is gone")
    if not summary.dry_run:
        table.add_row("written", f"{summary.written:,}", "points (missing and stale items)")
        table.add_row("deleted", f"{report.deletions.deleted:,}", "orphaned points")
    if summary.failed:
        table.add_row("failed", f"{summary.failed:,}", "items (listed below)")
    return table


def print_verify(console: Console, report: SyncReport, source: str) -> None:
    """Print the verify report, and what to run next when something differs."""
    console.print(verify_table(report, source))
    differs = report.missing or report.stale or report.orphaned
    if report.summary.dry_run:
        if differs:
            console.print(
                f"Run `mmingest verify {terminal_safe(source)} --fix` to embed the missing and "
                "stale items "
                "and delete the orphaned points.",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
        else:
            console.print("The collection matches the source.", markup=False)
    if report.deletions.guarded:
        console.print(f"Nothing was deleted: {report.deletions.guarded}", soft_wrap=True)
