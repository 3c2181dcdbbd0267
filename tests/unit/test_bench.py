"""The benchmark harness's plumbing (goals, table, --only, results files), without heavy runs."""

from __future__ import annotations

import json

import pytest

from bench.harness import Measurement, goal_at_least, goal_at_most, machine, markdown
from bench.runner import main, parse_args, selected


def test_goals_are_formatted_and_judged():
    assert goal_at_least(0.85, 0.8) == (">= 0.8", True)
    assert goal_at_least(0.79, 0.8) == (">= 0.8", False)
    assert goal_at_most(1.25, 1.2) == ("<= 1.2", False)
    assert goal_at_most(0, 0) == ("<= 0", True)


def test_table_shows_every_figure_with_its_goal_and_setup():
    figures = [
        Measurement(
            "end-to-end",
            "pipeline / bare",
            0.8312,
            goal=">= 0.8",
            met=True,
            details={"model": "ViT-B/32", "batch_size": 32},
        ),
        Measurement("query", "p50 latency", 1.834, unit="ms"),
        Measurement("memory", "peak RSS ratio", 1.31, goal="<= 1.2", met=False),
    ]
    lines = markdown(figures, setup=True).splitlines()
    assert lines[0] == "| scenario | figure | value | goal | met | model, batch |"
    assert lines[1] == "|---|---|---|---|---|---|"
    assert (
        lines[2] == "| end-to-end | pipeline / bare | 0.831 | >= 0.8 | yes | ViT-B/32, batch 32 |"
    )
    assert lines[3] == "| query | p50 latency | 1.83 ms |  |  |  |"
    assert lines[4] == "| memory | peak RSS ratio | 1.310 | <= 1.2 | **no** |  |"
    assert markdown(figures).splitlines()[1] == "|---|---|---|---|---|"


def test_machine_facts_name_cores_cpu_and_torch():
    facts = machine()
    assert {"cores", "cpu", "torch", "python"} <= set(facts)
    assert facts["cores"] >= 1


def test_only_selects_in_registry_order_and_rejects_unknown_names(capsys):
    names = ["end-to-end", "overhead", "query"]
    assert selected(names, None) == names
    assert selected(names, ["query", "end-to-end"]) == ["end-to-end", "query"]
    assert parse_args(["--quick", "--only", "query"], names).only == ["query"]
    with pytest.raises(SystemExit):
        parse_args(["--only", "nope"], names)
    assert "invalid choice" in capsys.readouterr().err


def _fake(name: str, value: float, bound: float, calls: list[tuple[str, bool]]):
    def scenario(quick: bool) -> list[Measurement]:
        calls.append((name, quick))
        goal, met = goal_at_least(value, bound)
        return [Measurement(name, f"{name} ratio", value, goal=goal, met=met)]

    return (f"fake {name}", scenario)


def test_main_runs_only_the_chosen_scenarios_and_writes_results(tmp_path, capsys):
    calls: list[tuple[str, bool]] = []
    scenarios = {
        "fast": _fake("fast", 0.9, 0.8, calls),
        "slow": _fake("slow", 0.5, 0.8, calls),
    }
    code = main(["--quick", "--only", "fast", "--out", str(tmp_path)], scenarios)
    assert code == 0
    assert calls == [("fast", True)]
    document = json.loads((tmp_path / "latest.json").read_text())
    assert document["quick"] is True
    assert document["command"] == "python -m bench --quick --only fast"
    assert set(document["seconds"]) == {"fast", "total"}
    (figure,) = document["measurements"]
    assert figure["goal"] == ">= 0.8" and figure["met"] is True
    assert {"cores", "cpu", "torch"} <= set(figure["details"]["machine"])
    assert "| fast | fast ratio | 0.900 | >= 0.8 | yes |" in (tmp_path / "latest.md").read_text()
    assert "| fast | fast ratio | 0.900 | >= 0.8 | yes |" in capsys.readouterr().out


def test_a_missed_goal_or_a_crash_fails_the_run_but_not_the_others(tmp_path):
    calls: list[tuple[str, bool]] = []

    def crash(quick: bool) -> list[Measurement]:
        raise RuntimeError("engine fell over")

    scenarios = {
        "crash": ("crashes", crash),
        "slow": _fake("slow", 0.5, 0.8, calls),
    }
    assert main(["--out", str(tmp_path)], scenarios) == 1
    assert calls == [("slow", False)]
    figures = json.loads((tmp_path / "latest.json").read_text())["measurements"]
    assert figures[0]["met"] is False
    assert "engine fell over" in figures[0]["name"]
    assert figures[1]["met"] is False
