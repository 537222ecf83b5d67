"""The campaign's figures from its raw results, and the markdown table of them.

Issue 12 is done when a rerun counts 0 tracebacks, 0 time-outs and 0 restart
loops; `verdict` says whether this run did, and every file or kind that did
not is listed by name with what it printed.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

EXPLAINED = (
    # check-config warns, not refuses: systemd makes the directory when the service starts
    "the directory /run/speakerd does not exist",
    # check-config accepts a live daemon's socket (the running one's own config must pass)
    "another speakerd is already running",
)
"""Why `run` may refuse a file check-config accepted, by design (anything else is a finding)."""


def _largest(rows: list[dict[str, Any]], key: str) -> dict[str, Any]:
    if not rows:
        return {"value": None, "case": None}
    row = max(rows, key=lambda r: r.get(key) or 0)
    return {"value": row.get(key), "case": row["name"]}


def config_figures(checks: list[dict[str, Any]]) -> dict[str, Any]:
    codes = Counter("0" if r["exit_code"] == 0 else "78" if r["exit_code"] == 78
                    else "time-out" if r["timed_out"] else "other" for r in checks)
    groups: dict[str, Counter[str]] = {}
    for r in checks:
        groups.setdefault(r["group"], Counter())[str(r["exit_code"])] += 1
    failures = [
        {"name": r["name"], "path": r["path"], "exit_code": r["exit_code"],
         "timed_out": r["timed_out"], "tracebacks": r["tracebacks"],
         "stderr_head": r["stderr_head"][:600]}
        for r in checks
        if r["timed_out"] or r["tracebacks"] or r["exit_code"] not in (0, 78)
        or not r["names_the_file"] or r["code_executed"]
    ]
    return {
        "files": len(checks), "exit_0": codes["0"], "exit_78": codes["78"],
        "exit_other": codes["other"], "timeouts": codes["time-out"],
        "tracebacks": sum(1 for r in checks if r["tracebacks"]),
        "refusals_not_naming_the_file": sum(1 for r in checks if not r["names_the_file"]),
        "code_executed": sum(1 for r in checks if r["code_executed"]),
        "max_seconds": _largest(checks, "seconds"),
        "max_peak_rss_mb": _largest(checks, "peak_rss_mb"),
        "max_output_bytes": _largest(checks, "output_bytes"),
        "longest_output_line": _largest(checks, "longest_line"),
        "by_group": {g: dict(c) for g, c in sorted(groups.items())},
        "failures": failures,
    }


def run_figures(runs: list[dict[str, Any]], checks: list[dict[str, Any]],
                unrun: list[int], accepted: int, distinct: int) -> dict[str, Any]:
    outcomes = Counter(r["outcome"] for r in runs)
    check_code = {r["index"]: r["exit_code"] for r in checks}
    accepted_then_refused = [r for r in runs
                             if check_code.get(r["index"]) == 0 and r["outcome"] == "refused"]
    explained = [r for r in accepted_then_refused if any(why in r["said"] for why in EXPLAINED)]
    failures = [{k: r[k] for k in ("name", "outcome", "why", "exit_code", "tracebacks",
                                   "log_tail")}
                for r in runs if r["outcome"] not in ("ready", "refused") or r["tracebacks"]
                or (r["status"] is not None and not r["status"]["ok"])]
    return {
        "accepted_files": accepted, "distinct_accepted_configs": distinct,
        "started": len(runs), "not_run_for_time": len(unrun),
        "ready": outcomes["ready"], "refused_78": outcomes["refused"],
        "restart_loops": outcomes["restart loop"], "unclean_stops": outcomes["unclean stop"],
        "exited_by_itself": outcomes["exited by itself"],
        "tracebacks": sum(1 for r in runs if r["tracebacks"]),
        "watchdog_alarms": sum(1 for r in runs if r["watchdog_alarms"]),
        "ready_but_errors_logged": {r["name"]: r["errors_logged"][:2] for r in runs
                                    if r["outcome"] == "ready" and r["errors_logged"]},
        "status_failures": sum(1 for r in runs if r["status"] is not None and not r["status"]["ok"]),
        "max_ready_seconds": max((r["ready_seconds"] or 0 for r in runs), default=None),
        "check_ok_but_run_refused": {r["name"]: r["said"] for r in accepted_then_refused
                                     if r not in explained},
        "check_ok_but_run_refused_by_design": {r["name"]: r["said"] for r in explained},
        "failures": failures,
    }


def socket_figures(socket: dict[str, Any]) -> dict[str, Any]:
    if "kinds" not in socket:
        return {"error": socket.get("error", "not run"), "kinds": 0}
    kinds = socket["kinds"]
    after = [k["status_after"] for k in kinds]
    return {
        "kinds": len(kinds),
        "tracebacks": socket["tracebacks"],
        "log_bytes": socket["log_bytes"],
        "status_failures_after": sum(1 for s in after if not s["ok"]),
        "max_status_ms_after": max((s["ms"] for s in after if s["ok"]), default=None),
        "ctl_failures_after": sum(1 for k in kinds if not k["ctl_status_after"]
                                  or k["ctl_status_after"]["exit_code"] != 0),
        "daemon_survived": all(k["daemon_alive"] for k in kinds),
        "exit_code_on_sigterm": socket["exit_code"],
        "fds_at_start": socket["fds_at_start"], "fds_at_end": socket["fds_at_end"],
        "peak_rss_mb": socket["peak_rss_mb"],
    }


def summarize(checks: list[dict[str, Any]], runs: list[dict[str, Any]], unrun: list[int],
              accepted: int, distinct: int, socket: dict[str, Any],
              meta: dict[str, Any]) -> dict[str, Any]:
    config = config_figures(checks)
    run = run_figures(runs, checks, unrun, accepted, distinct)
    sock = socket_figures(socket)
    verdict = {
        "tracebacks": config["tracebacks"] + run["tracebacks"] + sock.get("tracebacks", 0),
        "timeouts": config["timeouts"],
        "restart_loops": run["restart_loops"],
    }
    clean = (all(v == 0 for v in verdict.values()) and config["exit_other"] == 0
             and sock.get("status_failures_after") == 0 and sock.get("daemon_survived") is True)
    return {"meta": meta, "verdict": {**verdict, "clean": clean}, "config": config,
            "run": run, "socket": sock, "socket_kinds": socket.get("kinds", [])}


def _case(figure: dict[str, Any], unit: str = "") -> str:
    return f"{figure['value']}{unit} ({figure['case']})" if figure["case"] else "-"


def render(summary: dict[str, Any]) -> str:
    meta, verdict = summary["meta"], summary["verdict"]
    c, r, s = summary["config"], summary["run"], summary["socket"]
    lines = [
        f"Abuse campaign {meta['date']}, seed {meta['seed']}: {c['files']} config files, "
        f"{r['started']} `speakerd run` starts, {s['kinds']} kinds of control-socket abuse, "
        f"{meta['seconds']} s ({meta['machine']}).",
        "",
        f"**Tracebacks {verdict['tracebacks']}, time-outs {verdict['timeouts']}, "
        f"restart loops {verdict['restart_loops']}**"
        + (" (the issue's target: all 0)." if verdict["clean"] else " - NOT CLEAN, see below."),
        "",
        "| figure | value |",
        "|---|---:|",
        f"| check-config: files | {c['files']} |",
        f"| check-config: exit 0 / 78 / other | {c['exit_0']} / {c['exit_78']} / {c['exit_other']} |",
        f"| check-config: tracebacks | {c['tracebacks']} |",
        f"| check-config: time-outs (10 s) | {c['timeouts']} |",
        f"| check-config: refusals not naming the file | {c['refusals_not_naming_the_file']} |",
        f"| check-config: YAML tags that ran code | {c['code_executed']} |",
        f"| check-config: longest | {_case(c['max_seconds'], ' s')} |",
        f"| check-config: most memory (peak RSS) | {_case(c['max_peak_rss_mb'], ' MB')} |",
        f"| check-config: most output | {_case(c['max_output_bytes'], ' bytes')} |",
        f"| check-config: longest output line | {_case(c['longest_output_line'], ' chars')} |",
        f"| run: accepted files / distinct configs | {r['accepted_files']} / "
        f"{r['distinct_accepted_configs']} |",
        f"| run: starts (not run for time) | {r['started']} ({r['not_run_for_time']}) |",
        f"| run: ready / refused 78 | {r['ready']} / {r['refused_78']} |",
        f"| run: restart loops | {r['restart_loops']} |",
        f"| run: unclean stops / exited by itself | {r['unclean_stops']} / {r['exited_by_itself']} |",
        f"| run: tracebacks | {r['tracebacks']} |",
        f"| run: starts that logged a watchdog alarm (pings resumed) | {r['watchdog_alarms']} |",
        f"| run: ready, but logged an ERROR | {len(r['ready_but_errors_logged'])} |",
        f"| run: check-config OK but run refused (by design) | "
        f"{len(r['check_ok_but_run_refused'])} ({len(r['check_ok_but_run_refused_by_design'])}) |",
        f"| socket: tracebacks in the daemon's log | {s.get('tracebacks')} |",
        f"| socket: log bytes written | {s.get('log_bytes')} |",
        f"| socket: `status` failures after a kind | {s.get('status_failures_after')} |",
        f"| socket: slowest `status` after a kind | {s.get('max_status_ms_after')} ms |",
        f"| socket: `speakerd ctl status` failures after a kind | {s.get('ctl_failures_after')} |",
        f"| socket: daemon survived / exit on SIGTERM | {s.get('daemon_survived')} / "
        f"{s.get('exit_code_on_sigterm')} |",
        f"| socket: daemon fds start / end | {s.get('fds_at_start')} / {s.get('fds_at_end')} |",
    ]
    if summary["socket_kinds"]:
        lines += ["", "| control-socket abuse | tracebacks | log bytes | status after (ms) "
                  "| ctl status after | fds after |", "|---|---:|---:|---:|---|---:|"]
        for k in summary["socket_kinds"]:
            st, ctl = k["status_after"], k["ctl_status_after"]
            ctl_text = f"exit {ctl['exit_code']}, {ctl['seconds']} s" if ctl else "-"
            lines.append(
                f"| {k['kind']} | {k['tracebacks']} | {k['log_bytes']} | "
                f"{st['ms'] if st['ok'] else 'FAILED'} | {ctl_text} | {k['daemon_fds_after']} |")
    for name, errors in r["ready_but_errors_logged"].items():
        lines.append(f"\nready, but logged: {name}: {' / '.join(errors)}")
    for name, said in r["check_ok_but_run_refused"].items():
        lines.append(f"\ncheck-config said OK, `speakerd run` refused (exit 78): {name}: {said}")
    for title, failures in (("check-config", c["failures"]), ("speakerd run", r["failures"])):
        for f in failures:
            lines.append(f"\n{title} finding: {f['name']}: "
                         + ", ".join(f"{k} {f[k]!r}" for k in f if k != "name"))
    return "\n".join(lines) + "\n"
