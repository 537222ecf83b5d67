"""`speakerd run` as systemd starts it, watched as systemd watches it.

A private NOTIFY_SOCKET collects READY=1 and WATCHDOG=1. WATCHDOG_USEC is
1 s (a ping every 0.5 s) so pings are seen within a short hold; restarts.py
still gives the first ping the unit's grace. The open-file limit is the soft
one systemd gives a service (1024), so descriptor exhaustion shows as it would
on the device. The process is reaped with wait4() for its peak RSS.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

WATCHDOG_USEC = 1_000_000
NOFILE = "1024:"  # the soft limit systemd gives a service (DefaultLimitNOFILE=1024:524288)


class DaemonProcess:
    """One `python -m daemon run --config PATH` with its log in `log_path`."""

    def __init__(self, config: Path, env: dict[str, str], cwd: Path, log_path: Path) -> None:
        self.log_path = log_path
        self.notify_path = cwd / "notify.sock"
        with contextlib.suppress(FileNotFoundError):
            self.notify_path.unlink()
        self._notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._notify.bind(str(self.notify_path))
        self._notify.settimeout(0.1)
        self.messages: list[tuple[float, str]] = []
        self.ready_at: float | None = None
        self._closing = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        env = {**env, "NOTIFY_SOCKET": str(self.notify_path), "WATCHDOG_USEC": str(WATCHDOG_USEC)}
        env.pop("WATCHDOG_PID", None)
        env.pop("JOURNAL_STREAM", None)
        command = [sys.executable, "-m", "daemon", "run", "--config", str(config)]
        if shutil.which("prlimit"):
            command = ["prlimit", f"--nofile={NOFILE}", "--", *command]
        self._log = open(log_path, "wb")  # noqa: SIM115 (closed in stop())
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(command, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.exit_code: int | None = None
        self.peak_rss_mb: float | None = None

    def _read(self) -> None:
        while not self._closing:
            try:
                data = self._notify.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            now = time.monotonic()
            for field in data.decode(errors="replace").split("\n"):
                self.messages.append((now, field))
                if field == "READY=1" and self.ready_at is None:
                    self.ready_at = now

    @property
    def pid(self) -> int:
        return self.proc.pid

    def poll(self) -> int | None:
        """The exit code once it has exited (reaped with its rusage), else None."""
        if self.exit_code is None:
            pid, status, usage = os.wait4(self.proc.pid, os.WNOHANG)
            if pid:
                self._reaped(status, usage)
        return self.exit_code

    def _reaped(self, status: int, usage: os.struct_rusage) -> None:
        self.exit_code = os.waitstatus_to_exitcode(status)
        self.proc.returncode = self.exit_code
        self.peak_rss_mb = round(usage.ru_maxrss / 1024, 1)

    def wait_ready(self, timeout: float) -> bool:
        """True at READY=1; False when it exited first or the time-out passed."""
        deadline = time.monotonic() + timeout
        while self.ready_at is None:
            if self.poll() is not None or time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def pings_since_ready(self) -> int:
        """WATCHDOG=1 pings since READY=1 (what keeps systemd from killing it)."""
        ready = self.ready_at if self.ready_at is not None else float("inf")
        return sum(1 for at, f in list(self.messages) if f == "WATCHDOG=1" and at >= ready)

    def signal(self, signum: int) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signum)

    def stop(self, timeout: float = 15.0) -> tuple[int, bool]:
        """SIGTERM, then SIGKILL after `timeout`: (exit code, whether it had to be killed)."""
        killed = False
        if self.poll() is None:
            self.signal(signal.SIGCONT)  # in case a test left it stopped
            self.signal(signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while self.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
            if self.exit_code is None:
                killed = True
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                _, status, usage = os.wait4(self.proc.pid, 0)
                self._reaped(status, usage)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # whatever it started
        self._closing = True
        self._reader.join(2)
        self._notify.close()
        self._log.close()
        with contextlib.suppress(FileNotFoundError):
            self.notify_path.unlink()
        assert self.exit_code is not None
        return self.exit_code, killed

    def log(self) -> bytes:
        return self.log_path.read_bytes()

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    def fds(self) -> int:
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))
