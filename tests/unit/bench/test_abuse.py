"""scripts/abuse's counting: what makes a traceback, a time-out, a restart loop, a clean run.

Not a rerun of the campaign (that is scripts/abuse, minutes long): its figures
from made-up results, and its output scan on a real file.
"""

from __future__ import annotations

import tempfile

from bench.abuse import summary
from bench.abuse.measure import TRACEBACK, scan
from bench.abuse.restarts import classify


def _check(index: int, exit_code: int | None, *, tracebacks: int = 0, seconds: float = 0.3,
           rss: float = 60.0, named: bool = True) -> dict:
    return {"index": index, "name": f"case {index}", "group": "yaml", "path": f"/c{index}.yaml",
            "exit_code": exit_code, "timed_out": exit_code is None, "tracebacks": tracebacks,
            "seconds": seconds, "peak_rss_mb": rss, "output_bytes": 100, "longest_line": 80,
            "names_the_file": named, "code_executed": False, "stderr_head": "boom"}


def _run(index: int, outcome: str, *, tracebacks: int = 0, said: str = "") -> dict:
    return {"index": index, "name": f"case {index}", "outcome": outcome, "why": "", "said": said,
            "exit_code": 0, "tracebacks": tracebacks, "watchdog_alarms": 0, "errors_logged": [], "ready_seconds": 2.0,
            "status": {"ok": True, "ms": 1.0} if outcome == "ready" else None, "log_tail": ""}


def _socket(status_ok: bool = True) -> dict:
    kind = {"kind": "idle flood", "tracebacks": 0, "log_bytes": 10, "daemon_alive": True,
            "status_after": {"ok": status_ok, "ms": 2.5}, "daemon_fds_after": 24,
            "ctl_status_after": {"exit_code": 0, "seconds": 0.3}}
    return {"kinds": [kind], "tracebacks": 0, "log_bytes": 10, "exit_code": 0,
            "fds_at_start": 24, "fds_at_end": 24, "peak_rss_mb": 150.0}


META = {"date": "today", "seed": 12, "seconds": 1, "machine": "test"}


def test_tracebacks_time_outs_and_restart_loops_are_counted_and_named() -> None:
    checks = [_check(0, 0), _check(1, 78), _check(2, 78, named=False),
              _check(3, None, seconds=10.0), _check(4, 1, tracebacks=2, rss=900.0), _check(5, 0),
              _check(6, 0), _check(7, 0)]
    runs = [_run(0, "ready"), _run(1, "refused"), _run(5, "restart loop", tracebacks=1),
            _run(6, "refused", said="speakerd: cannot load wake-word models: bad .onnx"),
            _run(7, "refused", said="speakerd: cannot create the control socket /run/speakerd/"
                 "control.sock: the directory /run/speakerd does not exist (under systemd...")]
    result = summary.summarize(checks, runs, [9], 4, 4, _socket(), META)
    config, run = result["config"], result["run"]
    assert (config["exit_0"], config["exit_78"], config["exit_other"], config["timeouts"]) == \
        (4, 2, 1, 1)
    assert config["tracebacks"] == 1 and config["refusals_not_naming_the_file"] == 1
    assert config["max_peak_rss_mb"] == {"value": 900.0, "case": "case 4"}
    assert [f["name"] for f in config["failures"]] == ["case 2", "case 3", "case 4"]
    assert (run["ready"], run["refused_78"], run["restart_loops"], run["not_run_for_time"]) == \
        (1, 3, 1, 1)
    # accepted, then refused by run: a finding, unless it is the runtime directory systemd makes
    assert list(run["check_ok_but_run_refused"]) == ["case 6"]
    assert list(run["check_ok_but_run_refused_by_design"]) == ["case 7"]
    assert result["verdict"] == {"tracebacks": 2, "timeouts": 1, "restart_loops": 1,
                                 "clean": False}
    table = summary.render(result)
    assert "| check-config: exit 0 / 78 / other | 4 / 2 / 1 |" in table
    assert "refused (exit 78): case 6: speakerd: cannot load wake-word models" in table
    assert "NOT CLEAN" in table and "speakerd run finding: case 5" in table


def test_a_clean_run_needs_status_answered_after_every_kind() -> None:
    checks = [_check(0, 0), _check(1, 78)]
    runs = [_run(0, "ready"), _run(1, "refused")]
    assert summary.summarize(checks, runs, [], 1, 1, _socket(), META)["verdict"]["clean"]
    late = summary.summarize(checks, runs, [], 1, 1, _socket(status_ok=False), META)
    assert not late["verdict"]["clean"] and late["socket"]["status_failures_after"] == 1
    assert "| idle flood | 0 | 10 | FAILED | exit 0, 0.3 s | 24 |" in summary.render(late)


def test_what_systemd_would_restart() -> None:
    assert classify(ready=False, exit_code=78, pings=0, stop_code=78, killed=False)[0] == "refused"
    assert classify(ready=False, exit_code=1, pings=0, stop_code=1, killed=False)[0] == \
        "restart loop"
    assert classify(ready=False, exit_code=None, pings=0, stop_code=0, killed=False)[0] == \
        "restart loop"  # never READY=1: TimeoutStartSec
    assert classify(ready=True, exit_code=None, pings=0, stop_code=0, killed=False)[0] == \
        "restart loop"  # never pinged: WatchdogSec
    assert classify(ready=True, exit_code=None, pings=3, stop_code=0, killed=False)[0] == "ready"
    assert classify(ready=True, exit_code=None, pings=3, stop_code=-9, killed=True)[0] == \
        "unclean stop"


def test_the_output_scan_finds_a_traceback_cut_by_the_read_size() -> None:
    data = b"x" * ((1 << 20) - 10) + TRACEBACK + b":\n  line\n" + TRACEBACK + b"\nend"
    with tempfile.TemporaryFile() as out:
        out.write(data)
        found = scan(out)
    assert found["tracebacks"] == 2 and found["bytes"] == len(data)
    assert found["lines"] == 4 and found["longest_line"] == (1 << 20) - 10 + len(TRACEBACK) + 1
