"""Phase 3: one `speakerd run` under every kind of control-socket abuse, one after another.

Around each kind: the log's growth (bytes, tracebacks, "out of system
resource" lines), then a `status` over the socket (answered? in how many ms?)
and a `speakerd ctl status` as the owner types it (exit code, seconds), the
daemon's open descriptors, and whether it is still alive. At the end it gets
SIGTERM and must exit 0.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path
from typing import Any

from bench.abuse.attacks import ATTACKS, Target
from bench.abuse.daemon_proc import DaemonProcess
from bench.abuse.measure import TRACEBACK, measure
from bench.abuse.restarts import READY_TIMEOUT, status_roundtrip

ACCEPT_ERROR = b"out of system resource"
SETTLE_SECONDS = 0.5  # let the daemon log what the kind made it log


def ctl_status(target: Target) -> dict[str, Any]:
    """`speakerd ctl status` in a new process, as the owner would type it."""
    result = measure([sys.executable, "-m", "daemon", "ctl", "--socket", str(target.socket),
                      "status"], env=target.env, cwd=target.workdir, timeout=30)
    return {"exit_code": result["exit_code"], "seconds": result["seconds"],
            "tracebacks": result["tracebacks"]}


def abuse_one(target: Target, name: str, attack: Any) -> dict[str, Any]:
    daemon = target.daemon
    offset = daemon.log_size()
    began = time.monotonic()
    try:
        details = attack(target)
    except Exception as exc:  # the campaign's own failure, reported, not hidden
        details = {"campaign error": f"{type(exc).__name__}: {exc}"}
    seconds = time.monotonic() - began
    time.sleep(SETTLE_SECONDS)
    alive = daemon.poll() is None
    status = status_roundtrip(target.socket) if alive else {"ok": False, "error": "daemon exited"}
    ctl = ctl_status(target) if alive else None
    written = daemon.log()[offset:]
    return {
        "kind": name, "seconds": round(seconds, 2), "details": details,
        "tracebacks": written.count(TRACEBACK), "log_bytes": len(written),
        "log_lines": written.count(b"\n"), "accept_errors": written.count(ACCEPT_ERROR),
        "daemon_alive": alive, "status_after": status, "ctl_status_after": ctl,
        "daemon_fds_after": daemon.fds() if alive else None,
    }


def run(config: Path, socket_path: Path, env: dict[str, str], workdir: Path,
        seed: int) -> dict[str, Any]:
    """Start the daemon, abuse it 19 ways, stop it; everything it showed."""
    daemon = DaemonProcess(config, env, workdir, workdir / "daemon.log")
    try:
        if not daemon.wait_ready(READY_TIMEOUT):
            return {"error": "the daemon never became ready",
                    "log_tail": daemon.log()[-2000:].decode("utf-8", "backslashreplace")}
        time.sleep(1.0)
        target = Target(daemon, socket_path, config, env, workdir, random.Random(seed))
        fds_at_start = daemon.fds()
        kinds = []
        for number, (name, attack) in enumerate(ATTACKS, 1):
            kinds.append(abuse_one(target, name, attack))
            print(f"abuse: socket {number}/{len(ATTACKS)} {name}: "
                  f"status {'ok' if kinds[-1]['status_after']['ok'] else 'FAILED'}",
                  file=sys.stderr, flush=True)
            if not kinds[-1]["daemon_alive"]:
                break
        fds_at_end = daemon.fds() if daemon.poll() is None else None
    finally:
        exit_code, killed = daemon.stop()
    log = daemon.log_path.read_bytes()
    return {
        "kinds": kinds, "fds_at_start": fds_at_start, "fds_at_end": fds_at_end,
        "exit_code": exit_code, "killed": killed, "peak_rss_mb": daemon.peak_rss_mb,
        "log_bytes": len(log), "tracebacks": log.count(TRACEBACK),
        "pings": daemon.pings_since_ready(),
    }
