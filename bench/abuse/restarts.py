"""Phase 2: `speakerd run` on the files, as systemd would start it; would it restart-loop?

The unit says Restart=on-failure, RestartPreventExitStatus=78, WatchdogSec=20s
and gives up after 10 starts in 5 minutes. So a start ends one of these ways:

- ready: READY=1, WATCHDOG=1 pings, `status` answers, exit 0 on SIGTERM;
- refused: exit 78 before READY=1 (reported once, never retried);
- restart loop: any other exit before or after READY=1, no READY=1 in time, or
  no watchdog ping after READY=1 (systemd kills and restarts it, ten times);
- unclean stop: ready, but SIGTERM ends it with another code or not at all;
- exited by itself: exit 0 after READY=1 without being asked (the speaker is gone).
"""

from __future__ import annotations

import json
import socket
import sys
import time
from pathlib import Path
from typing import Any

from bench.abuse.checks import Built
from bench.abuse.daemon_proc import DaemonProcess
from bench.abuse.measure import TRACEBACK

READY_TIMEOUT = 30.0  # the unit allows 90 s; here READY=1 comes in ~2 s
HOLD_SECONDS = 1.0  # up at least this long after READY=1
PING_GRACE = 10.0  # the first WATCHDOG=1 must come this soon after READY=1 (the unit: 20 s)
STOP_TIMEOUT = 15.0  # the unit's TimeoutStopSec
WATCHDOG_ALARM = b"no longer pinging systemd"


def refusal(log: bytes) -> str:
    """What `speakerd run` said when it refused: its last "speakerd: ..." line, else its
    first line that is not a log line (a config problem, which names the file)."""
    lines = log.splitlines()
    own = [line for line in lines if line.startswith(b"speakerd: ")]
    plain = [line for line in lines if not line.startswith((b"INFO ", b"WARNING ", b"ERROR "))]
    said = own[-1:] or plain[:1]
    return said[0].decode("utf-8", "backslashreplace")[:300] if said else ""


def errors_logged(log: bytes) -> list[str]:
    """The daemon's ERROR lines, the watchdog's alarm aside (counted on its own)."""
    return [line.decode("utf-8", "backslashreplace")[:300] for line in log.splitlines()
            if line.startswith(b"ERROR ") and WATCHDOG_ALARM not in line]


def status_roundtrip(path: Path, timeout: float = 10.0) -> dict[str, Any]:
    """One `status` request as `speakerd ctl` sends it: whether it answered, and how fast."""
    began = time.monotonic()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(path))
            sock.sendall(b'{"cmd": "status"}\n')
            reply = b""
            while not reply.endswith(b"\n"):
                piece = sock.recv(65536)
                if not piece:
                    break
                reply += piece
        answer = json.loads(reply)
        ok = isinstance(answer, dict) and answer.get("ok") is True
        return {"ok": ok, "ms": round((time.monotonic() - began) * 1000, 1),
                "state": answer.get("state") if ok else None}
    except (OSError, ValueError) as exc:
        return {"ok": False, "ms": round((time.monotonic() - began) * 1000, 1),
                "error": f"{type(exc).__name__}: {exc}"}


def classify(*, ready: bool, exit_code: int | None, pings: int, stop_code: int | None,
             killed: bool) -> tuple[str, str]:
    """(outcome, why) for one start; exit_code is the code before we asked it to stop."""
    if not ready:
        if exit_code is None:
            return "restart loop", f"no READY=1 within {READY_TIMEOUT:g} s"
        if exit_code == 78:
            return "refused", "exit 78 before READY=1"
        return "restart loop", f"exit {exit_code} before READY=1"
    if exit_code is not None:
        if exit_code == 0:
            return "exited by itself", "exit 0 after READY=1, unasked"
        return "restart loop", f"exit {exit_code} after READY=1"
    if pings == 0:
        return "restart loop", f"no WATCHDOG=1 in {PING_GRACE:g} s after READY=1"
    if killed:
        return "unclean stop", f"still running {STOP_TIMEOUT:g} s after SIGTERM"
    if stop_code != 0:
        return "unclean stop", f"exit {stop_code} on SIGTERM"
    return "ready", "READY=1, pinged, exit 0 on SIGTERM"


def _hold(daemon: DaemonProcess) -> None:
    """Until the first watchdog ping (at most PING_GRACE s) and at least HOLD_SECONDS."""
    assert daemon.ready_at is not None
    while daemon.poll() is None and not daemon.pings_since_ready():
        if time.monotonic() - daemon.ready_at > PING_GRACE:
            return
        time.sleep(0.02)
    rest = daemon.ready_at + HOLD_SECONDS - time.monotonic()
    if rest > 0:
        time.sleep(rest)


def run_one(built: Built, env: dict[str, str], socket_path: Path | None) -> dict[str, Any]:
    log_path = built.case_dir / "run.log"
    began = time.monotonic()
    daemon = DaemonProcess(built.path, env, built.case_dir, log_path)
    ready = daemon.wait_ready(READY_TIMEOUT)
    status = None
    if ready:
        _hold(daemon)
        if socket_path is not None and daemon.poll() is None:
            status = status_roundtrip(socket_path)
    exit_code = daemon.poll()
    pings = daemon.pings_since_ready()
    ready_seconds = None if daemon.ready_at is None else round(daemon.ready_at - daemon.started_at, 2)
    stop_code, killed = daemon.stop(STOP_TIMEOUT)
    outcome, why = classify(ready=ready, exit_code=exit_code, pings=pings,
                            stop_code=stop_code, killed=killed)
    log = log_path.read_bytes()
    return {
        "index": built.index, "name": built.name, "group": built.group,
        "outcome": outcome, "why": why, "exit_code": exit_code if exit_code is not None
        else stop_code, "ready_seconds": ready_seconds, "watchdog_pings": pings,
        "status": status, "tracebacks": log.count(TRACEBACK),
        "watchdog_alarms": log.count(WATCHDOG_ALARM), "errors_logged": errors_logged(log),
        "said": refusal(log) if outcome == "refused" else "",
        "peak_rss_mb": daemon.peak_rss_mb, "seconds": round(time.monotonic() - began, 2),
        "log_tail": log[-800:].decode("utf-8", "backslashreplace")  # a refusal: "said"
        if outcome not in ("ready", "refused") or log.count(TRACEBACK) else "",
    }


def run_all(files: list[tuple[Built, Path | None]], env: dict[str, str],
            budget: float) -> tuple[list[dict[str, Any]], list[int]]:
    """Each file in turn until `budget` seconds are spent: (results, indexes left unrun)."""
    results: list[dict[str, Any]] = []
    began = time.monotonic()
    for number, (built, socket_path) in enumerate(files):
        if time.monotonic() - began > budget:
            return results, [b.index for b, _ in files[number:]]
        results.append(run_one(built, env, socket_path))
        if (number + 1) % 10 == 0 or number + 1 == len(files):
            print(f"abuse: speakerd run {number + 1}/{len(files)}", file=sys.stderr, flush=True)
    return results, []
