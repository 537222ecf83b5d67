"""What a bench run must contain: every figure measured, nothing failed on the way.

`scripts/bench --smoke` exits non-zero when this finds a problem, so CI fails the
day a figure stops being measured (the bench once crashed before its first figure
and nobody noticed). Targets are not checked here: a short run on a shared CI
machine says nothing about them.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any

from bench.report import FIGURES


def problems(results: dict[str, Any], skip: Collection[str] = ()) -> list[str]:
    """One line per missing figure or failed step; empty when the run is complete.

    skip: figures this run was not meant to measure (the echo figures in --smoke)."""
    found: list[str] = []
    figures = results.get("figures", {})
    for key in FIGURES:
        if key in skip:
            continue
        figure = figures.get(key)
        if figure is None:
            found.append(f"figure {key} is missing from the results")
            continue
        median = figure.get("median")
        if not isinstance(median, int | float) or not math.isfinite(median):
            found.append(f"figure {key} was not measured (median {median!r}, {figure.get('runs')} runs)")
    unknown = sorted(set(figures) - set(FIGURES))
    found += [f"figure {key} is not in bench.report.FIGURES (no label, no target)" for key in unknown]
    details = results.get("details", {})
    for kind in ("wake_trials", "ctl_wake_trials"):
        for index, trial in enumerate(details.get(kind, [])):
            if trial.get("error"):
                found.append(f"{kind}[{index}] failed: {trial['error']}")
    exit_code = results.get("meta", {}).get("daemon_exit_code")
    if exit_code != 0:
        found.append(f"the daemon exited with {exit_code} when stopped (SIGTERM should give 0)")
    return found
