"""The bench report: every measured figure lands in the table beside its target."""

from __future__ import annotations

import json

from bench import report
from bench.stats import summarize


def _results() -> dict:
    figures = {
        "idle_cpu_ratio": summarize([1.3, 1.2, 1.5], "x"),
        "playout_ms": summarize([4.0, 2.0, 9.0], "ms"),
        "post_wake_lost_ms": summarize([0.0, 0.0], "ms"),
        "wake_latency_ms": summarize([60.0], "ms"),
        "startup_s": summarize([], "s"),
    }
    return {"meta": {"date": "2026-01-01 10:00", "quick": True, "machine": "2 cores",
                     "commit": "abc123"},
            "figures": figures, "notes": ["the camera is the stand-in"]}


def test_summary_is_median_min_max_of_the_runs():
    assert summarize([3.0, 1.0, 2.0], "ms") == {
        "median": 2.0, "min": 1.0, "max": 3.0, "runs": 3, "values": [3.0, 1.0, 2.0], "unit": "ms"}
    assert summarize([], "ms")["median"] is None


def test_table_puts_each_figure_beside_its_target_and_verdict():
    table = report.render_markdown(_results())
    rows = {line.split("|")[1].strip(): line for line in table.splitlines() if line.startswith("| ")}
    idle = rows["1. Idle CPU, daemon / bare openWakeWord (room mix) (x)"]
    assert "| 1.30 | 1.20 | 1.50 | 3 | <= 1.00 x | MISSED |" in idle
    assert "| met |" in rows["4. Answer playout (first model chunk sent to device write) (ms)"]
    assert "| met |" in rows["3. Post-wake speech lost (ms)"]
    assert rows["2. Wake latency (end of phrase to detection, audio time) (ms)"].endswith("|  |  |")
    assert "| - | - | - | 0 |" in rows["7. Start-up, process start to READY=1 (s)"]
    assert "- the camera is the stand-in" in table
    assert "--quick" in table


def test_table_names_the_smoke_plan():
    results = _results()
    results["meta"]["plan_name"] = "smoke"
    assert "(--smoke, commit abc123)" in report.render_markdown(results)


def test_write_produces_json_table_and_png(tmp_path):
    results = _results()
    report.write(results, tmp_path)
    assert json.loads((tmp_path / "results.json").read_text()) == results
    assert "| Figure |" in (tmp_path / "results.md").read_text()
    assert (tmp_path / "timings.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_latest_soak_is_kept_beside_the_figures(tmp_path):
    (tmp_path / "soak.md").write_text("Soak: 200 cycles, answered 200/200\n")
    report.write(_results(), tmp_path)
    assert "## Soak (scripts/soak)\n\nSoak: 200 cycles, answered 200/200" in (
        tmp_path / "results.md").read_text()
