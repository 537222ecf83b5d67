"""Median, min and max of repeated runs: the shape every figure is reported in."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any


def summarize(values: Sequence[float], unit: str, digits: int = 3) -> dict[str, Any]:
    """{"median", "min", "max", "runs", "values", "unit"}; None figures for no runs."""
    clean = [float(v) for v in values if v is not None]
    if not clean:
        return {"median": None, "min": None, "max": None, "runs": 0, "values": [], "unit": unit}
    return {
        "median": round(statistics.median(clean), digits),
        "min": round(min(clean), digits),
        "max": round(max(clean), digits),
        "runs": len(clean),
        "values": [round(v, digits) for v in clean],
        "unit": unit,
    }
