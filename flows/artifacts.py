"""Run summaries as Prefect artifacts: Markdown for people, plain data for the flow result."""

from __future__ import annotations

import re
from typing import Any

from mmingest.pipelines.run import RunSpec, SyncReport

_FAILURES_SHOWN = 25


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def key_of(collection: str) -> str:
    """The artifact key prefix of a collection (keys allow lowercase, digits and dashes)."""
    return "mmingest-" + re.sub(r"[^a-z0-9-]+", "-", collection.lower()).strip("-")


def report_markdown(report: SyncReport, job: RunSpec) -> str:
    """A summary table, reconciliation, provider usage and the first failures."""
    summary, deletions = report.summary, report.deletions
    lines = [
        f"# mmingest {'plan' if summary.dry_run else 'run'}: `{_cell(job.source)}`",
        "",
        f"Collection `{summary.collection}`, kinds {', '.join(job.kinds)}"
        + (f", prefix `{job.prefix}`" if job.prefix else ""),
        "",
        "| outcome | count |",
        "|---|---:|",
        f"| seen | {summary.seen:,} |",
        f"| written | {summary.written:,} |",
        f"| new / changed | {summary.new:,} / {summary.changed:,} |",
        f"| unchanged | {summary.unchanged:,} |",
        f"| not inputs | {summary.ignored:,} |",
        f"| failed | {summary.failed:,} |",
        f"| deleted | {summary.deleted:,} |",
        f"| objects/s | {summary.objects_per_s:,.1f} |",
        f"| provider requests | {summary.provider_requests:,} |",
    ]
    lines += [
        f"| billed {unit} | {amount:,} |" for unit, amount in sorted(summary.billed_units.items())
    ]
    lines += [
        f"| would embed {unit} | {amount:,} |" for unit, amount in sorted(summary.estimate.items())
    ]
    if deletions.vanished_ids or deletions.guarded:
        lines += [
            "",
            f"Vanished: {len(deletions.vanished_ids):,} points of "
            f"{deletions.vanished_sources:,} objects.",
        ]
    if deletions.guarded:
        lines += ["", f"**Nothing was deleted:** {_cell(deletions.guarded)}"]
    if summary.failures:
        lines += [
            "",
            "## Failures",
            "",
            "| object | stage | reason | message |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {_cell(f.uri)} | {f.stage} | {f.reason} | {_cell(f.message)} |"
            for f in summary.failures[:_FAILURES_SHOWN]
        ]
        if len(summary.failures) > _FAILURES_SHOWN:
            lines.append(f"\n… and {len(summary.failures) - _FAILURES_SHOWN:,} more.")
    return "\n".join(lines) + "\n"


def report_data(report: SyncReport) -> dict[str, Any]:
    """The flow's return value: counts only (failures live in the dead letters)."""
    summary = report.summary
    return {
        "collection": summary.collection,
        "dry_run": summary.dry_run,
        "seen": summary.seen,
        "written": summary.written,
        "new": summary.new,
        "changed": summary.changed,
        "unchanged": summary.unchanged,
        "ignored": summary.ignored,
        "failed": summary.failed,
        "deleted": summary.deleted,
        "vanished": len(report.deletions.vanished_ids),
        "guarded": report.deletions.guarded,
        "provider_requests": summary.provider_requests,
        "billed_units": dict(summary.billed_units),
    }


def one_line(report: SyncReport) -> str:
    """The summary in one log line."""
    s = report.summary
    return (
        f"seen {s.seen:,}, written {s.written:,}, unchanged {s.unchanged:,}, "
        f"failed {s.failed:,}, deleted {s.deleted:,}"
    )
