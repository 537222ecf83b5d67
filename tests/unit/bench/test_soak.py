"""The soak's verdict: growth is measured from after the warm-up, every cycle must be answered."""

from __future__ import annotations

from bench import soak


def _sample(cycle: int, rss: float, fds: int = 25, threads: int = 9) -> dict:
    return {"cycle": cycle, "rss_mb": rss, "peak_rss_mb": rss + 10, "fds": fds, "threads": threads}


def test_growth_counts_from_after_the_warm_up_and_failures_are_listed():
    samples = [_sample(0, 150.0, fds=24), _sample(10, 158.0), _sample(50, 159.0),
               _sample(100, 160.5, threads=10)]
    results = [{"kind": "say", "answered": True, "error": None, "seconds": 3.0}] * 99 + [
        {"kind": "wake word", "answered": False, "error": "timed out", "seconds": 30.0}]
    summary = soak.summarize(100, samples, results, 0, 400.0)
    assert summary["warm"]["cycle"] == 10
    assert summary["growth_after_warm_up"] == {"rss_mb": 2.5, "fds": 0, "threads": 1}
    assert summary["answered"] == 99
    assert summary["failed"] == [{"kind": "wake word", "answered": False, "error": "timed out",
                                  "seconds": 30.0, "cycle": 99}]
    table = soak.render(summary)
    assert "| RSS (MB) | 150.0 | 158.0 | 160.5 | +2.5 | < 5 MB |" in table
    assert "| threads | 9 | 9 | 10 | +1 | 0 |" in table
    assert "answered 99/100" in table


def test_a_soak_shorter_than_the_warm_up_measures_from_its_end():
    samples = [_sample(0, 150.0), _sample(3, 151.0)]
    results = [{"kind": "say", "answered": True, "error": None, "seconds": 3.0}] * 3
    summary = soak.summarize(3, samples, results, 0, 12.0)
    assert summary["warm"]["cycle"] == 3
    assert summary["growth_after_warm_up"]["rss_mb"] == 0
