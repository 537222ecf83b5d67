"""The smoke run's verdict: a bench run that lost a figure or a trial fails CI."""

from __future__ import annotations

from typing import Any

from bench import check
from bench.report import FIGURES
from bench.stats import summarize


def _complete() -> dict[str, Any]:
    return {
        "meta": {"daemon_exit_code": 0},
        "figures": {key: summarize([1.0], "x") for key in FIGURES},
        "details": {"wake_trials": [{"error": None}], "ctl_wake_trials": [{"error": None}]},
    }


def test_a_complete_run_has_no_problems():
    assert check.problems(_complete()) == []


def test_a_figure_that_was_not_measured_is_named():
    results = _complete()
    results["figures"]["idle_quiet_cpu_ratio"] = summarize([], "x")
    del results["figures"]["startup_s"]
    found = check.problems(results)
    assert len(found) == 2
    assert any("idle_quiet_cpu_ratio was not measured" in p for p in found)
    assert any("startup_s is missing" in p for p in found)


def test_a_failed_trial_or_a_bad_exit_is_a_problem():
    results = _complete()
    results["details"]["ctl_wake_trials"][0]["error"] = "timed out waiting for first mic audio"
    results["meta"]["daemon_exit_code"] = -9
    found = check.problems(results)
    assert "ctl_wake_trials[0] failed: timed out waiting for first mic audio" in found
    assert any("exited with -9" in p for p in found)


def test_a_figure_without_a_label_is_a_problem():
    results = _complete()
    results["figures"]["mystery_ms"] = summarize([3.0], "ms")
    assert check.problems(results) == [
        "figure mystery_ms is not in bench.report.FIGURES (no label, no target)"]
