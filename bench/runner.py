"""``python -m bench [--quick] [--only NAME ...]``: every scenario, one table, one results file.

Each scenario measures its figures side by side in one run and returns them with their goals;
the runner adds the machine's facts to every figure, prints a Markdown table (figure, goal,
met, model and batch size) and writes ``bench/results/latest.json`` and ``latest.md``. A
scenario that crashes is reported as a failed figure and the others still run; the exit code
is 1 when any goal is missed or any scenario failed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from bench.harness import Measurement, machine, markdown, write

Scenario = Callable[[bool], list[Measurement]]


def _end_to_end(quick: bool) -> list[Measurement]:
    from bench import images

    return images.end_to_end(quick)


def _runtimes(quick: bool) -> list[Measurement]:
    from bench import runtimes

    return runtimes.run(quick)


def _end_to_end_fastest(quick: bool) -> list[Measurement]:
    from bench import images, runtimes
    from mmingest.schemas.errors import ConfigError

    # The fastest configuration that passed the gate in the runtimes scenario; alone (--only),
    # the product's own choice (runtime auto) stands in for it. With --quick the runtimes
    # scenario's gate is smaller than the product's, which may still refuse its choice: then
    # runtime auto chooses, and the figure says why.
    chosen = runtimes.fastest or {"runtime": "auto", "precision": "auto"}
    try:
        return images.end_to_end(
            quick,
            chosen["runtime"],
            chosen["precision"],
            scenario="end-to-end-fastest",
            local_too=True,
        )
    except ConfigError as error:
        figures = images.end_to_end(
            quick, "auto", "auto", scenario="end-to-end-fastest", local_too=True
        )
        for figure in figures:
            figure.details["refused_by_the_product_gate"] = str(error)
        return figures


def _overhead(quick: bool) -> list[Measurement]:
    from bench import overhead

    return overhead.run(quick)


def _naive(quick: bool) -> list[Measurement]:
    from bench import images

    return images.naive(quick)


def _incremental(quick: bool) -> list[Measurement]:
    from bench import incremental

    return incremental.run(1_000 if quick else 10_000)


def _memory(quick: bool) -> list[Measurement]:
    from bench import memory

    return memory.run(quick)


def _query(quick: bool) -> list[Measurement]:
    from bench import query

    return query.run(quick)


def _scale_out(quick: bool) -> list[Measurement]:
    from bench import scale_out

    return scale_out.run(quick)


def _web(quick: bool) -> list[Measurement]:
    from bench import web

    return web.run(quick)


SCENARIOS: dict[str, tuple[str, Scenario]] = {
    "end-to-end": ("images S3 -> ViT-B/32 CLIP -> Qdrant Edge vs the bare model", _end_to_end),
    "runtimes": ("bare ViT-B/32 per runtime and precision vs torch fp32, quality gate", _runtimes),
    "end-to-end-fastest": (
        "end-to-end on the fastest runtime passing the gate vs its bare model",
        _end_to_end_fastest,
    ),
    "overhead": ("product records, no model cost, vs raw bulk inserts", _overhead),
    "naive": ("pipeline vs the per-item quickstart loop", _naive),
    "incremental": ("re-run over unchanged data vs the first run", _incremental),
    "memory": ("peak RSS at 100k vs 10k records", _memory),
    "query": ("hybrid query latency, Retriever vs raw Qdrant Edge", _query),
    "scale-out": ("sync flow on 2 Dask processes vs threads, same ids", _scale_out),
    "web": ("search latency, POST /api/search vs Retriever.search", _web),
}
"""Scenario name -> (what it measures, the function running it); run in this order."""


def parse_args(argv: Sequence[str] | None, names: Sequence[str]) -> argparse.Namespace:
    """The command line; ``--only`` takes scenario names from ``names``."""
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__.split("\n")[0] if __doc__ else None
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small sizes (the runtimes scenario still exports every configuration once)",
    )
    parser.add_argument(
        "--only", nargs="+", choices=list(names), metavar="NAME", help="run only these scenarios"
    )
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument(
        "--out", type=Path, help="results directory (default: bench/results)", default=None
    )
    return parser.parse_args(argv)


def selected(names: Sequence[str], only: Sequence[str] | None) -> list[str]:
    """The scenarios to run, in registry order."""
    return [name for name in names if not only or name in only]


def failure(name: str, error: BaseException) -> Measurement:
    """A crashed scenario, as a figure that misses its goal."""
    return Measurement(
        name,
        f"scenario failed: {type(error).__name__}: {error}"[:200],
        float("nan"),
        goal="runs",
        met=False,
        details={"traceback": traceback.format_exc()[-4000:]},
    )


def run(
    names: Sequence[str], quick: bool, scenarios: dict[str, tuple[str, Scenario]]
) -> tuple[list[Measurement], dict[str, float]]:
    """Run ``names`` in order; returns every figure and each scenario's wall seconds."""
    facts = machine()
    short = {key: facts[key] for key in ("cores", "cpu", "torch")}
    results: list[Measurement] = []
    seconds: dict[str, float] = {}
    for name in names:
        print(f"[bench] {name}: {scenarios[name][0]} ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        try:
            figures = scenarios[name][1](quick)
        except Exception as error:
            figures = [failure(name, error)]
        seconds[name] = round(time.perf_counter() - started, 1)
        print(f"[bench] {name}: {seconds[name]} s", file=sys.stderr, flush=True)
        for figure in figures:
            figure.details.setdefault("machine", short)
        results += figures
    return results, seconds


def main(
    argv: Sequence[str] | None = None,
    scenarios: dict[str, tuple[str, Scenario]] | None = None,
) -> int:
    """Run the benchmarks; returns the exit code (1 when a goal is missed or a scenario failed)."""
    scenarios = scenarios if scenarios is not None else SCENARIOS
    args = parse_args(argv, list(scenarios))
    if args.list:
        for name, (what, _) in scenarios.items():
            print(f"{name:<12} {what}")
        return 0
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    started = time.perf_counter()
    names = selected(list(scenarios), args.only)
    results, seconds = run(names, args.quick, scenarios)
    total = round(time.perf_counter() - started, 1)
    command = "python -m bench" + (" --quick" if args.quick else "")
    if args.only:
        command += " --only " + " ".join(args.only)
    path = write(
        results,
        quick=args.quick,
        setup=True,
        extra={"command": command, "seconds": {**seconds, "total": total}},
        directory=args.out,
    )
    print(markdown(results, setup=True))
    print()
    print(", ".join(f"{key}: {value}" for key, value in machine().items()))
    print(f"{command}: {total} s ({', '.join(f'{k} {v} s' for k, v in seconds.items())})")
    print(f"wrote {path} and {path.with_suffix('.md')}")
    return 0 if all(m.met is not False for m in results) else 1
