"""daemon.systemd_notify against a real datagram socket standing in for systemd."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from daemon.systemd_notify import Notifier, WatchdogPinger, watchdog_interval


class FakeSystemd:
    """The receiving end of NOTIFY_SOCKET: a bound AF_UNIX datagram socket."""

    def __init__(self, address: str | bytes) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(address)
        self.sock.setblocking(False)

    async def receive(self, timeout: float = 5.0) -> list[str]:
        data = await asyncio.wait_for(
            asyncio.get_running_loop().sock_recv(self.sock, 4096), timeout
        )
        return data.decode().split("\n")

    def pending(self) -> list[list[str]]:
        messages = []
        while True:
            try:
                messages.append(self.sock.recv(4096).decode().split("\n"))
            except BlockingIOError:
                return messages


@pytest.fixture
def systemd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSystemd]:
    path = tmp_path / "notify"
    receiver = FakeSystemd(str(path))
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    yield receiver
    receiver.sock.close()


async def test_ready_status_stopping_reach_systemd(systemd: FakeSystemd) -> None:
    notifier = Notifier.from_env()

    assert notifier.ready(status="idle")
    assert await systemd.receive() == ["READY=1", "STATUS=idle"]
    notifier.status("listening")
    assert await systemd.receive() == ["STATUS=listening"]
    notifier.stopping()
    assert await systemd.receive() == ["STOPPING=1"]


async def test_status_newline_cannot_forge_another_field(systemd: FakeSystemd) -> None:
    Notifier.from_env().status("bad\nREADY=1")
    assert await systemd.receive() == ["STATUS=bad READY=1"]


async def test_abstract_socket_address(monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"speakerd-test-{os.getpid()}"
    receiver = FakeSystemd(b"\0" + name.encode())
    monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
    try:
        Notifier.from_env().watchdog()
        assert await receiver.receive() == ["WATCHDOG=1"]
    finally:
        receiver.sock.close()


def test_without_notify_socket_everything_is_a_quiet_no_op(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    notifier = Notifier.from_env()
    assert not notifier.enabled
    assert notifier.ready() is False
    assert notifier.watchdog_interval() is None


def test_vanished_systemd_does_not_raise(tmp_path: Path) -> None:
    assert Notifier(str(tmp_path / "gone")).status("x") is False


def test_watchdog_interval_from_environment() -> None:
    assert watchdog_interval({"WATCHDOG_USEC": "20000000"}) == 20.0
    own = str(os.getpid())
    assert watchdog_interval({"WATCHDOG_USEC": "20000000", "WATCHDOG_PID": own}) == 20.0
    # The watchdog belongs to another process (e.g. a parent that exec'd us oddly).
    assert watchdog_interval({"WATCHDOG_USEC": "20000000", "WATCHDOG_PID": "1"}) is None
    assert watchdog_interval({}) is None
    assert watchdog_interval({"WATCHDOG_USEC": "soon"}) is None


def test_notifier_interval_reads_watchdog_usec(
    systemd: FakeSystemd, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "8000000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    assert Notifier.from_env().watchdog_interval() == 8.0


class Liveness:
    """What the daemon passes: 'the capture thread delivered a chunk recently'."""

    def __init__(self) -> None:
        self.alive = True
        self.checks = 0

    def __call__(self) -> bool:
        self.checks += 1
        return self.alive

    async def wait_checks(self, count: int) -> None:
        target = self.checks + count
        while self.checks < target:
            await asyncio.sleep(0.005)


async def test_pings_while_alive_and_stop_when_capture_wedges(
    systemd: FakeSystemd, caplog: pytest.LogCaptureFixture
) -> None:
    liveness = Liveness()
    pinger = WatchdogPinger(Notifier.from_env(), liveness, interval=0.1)
    pinger.start()
    try:
        for _ in range(3):
            assert await systemd.receive() == ["WATCHDOG=1"]

        with caplog.at_level(logging.ERROR, logger="daemon.systemd_notify"):
            liveness.alive = False
            await liveness.wait_checks(1)
            systemd.pending()  # a ping sent just before the flip
            await liveness.wait_checks(4)
            assert systemd.pending() == []  # four failed checks, not one ping
        reasons = [r for r in caplog.records if "no longer pinging" in r.getMessage()]
        assert len(reasons) == 1  # logged once, not on every check

        liveness.alive = True
        assert await systemd.receive() == ["WATCHDOG=1"]
    finally:
        await pinger.stop()


async def test_check_that_raises_counts_as_dead(systemd: FakeSystemd) -> None:
    checks = 0

    def broken() -> bool:
        nonlocal checks
        checks += 1
        raise RuntimeError("capture thread state unreadable")

    pinger = WatchdogPinger(Notifier.from_env(), broken, interval=0.05)
    pinger.start()
    try:
        while checks < 3:
            await asyncio.sleep(0.01)
        assert systemd.pending() == []
    finally:
        await pinger.stop()


async def test_pinger_is_inactive_without_watchdog(
    systemd: FakeSystemd, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    pinger = WatchdogPinger(Notifier.from_env(), lambda: True)
    assert not pinger.active
    pinger.start()
    await pinger.stop()
    assert systemd.pending() == []


def test_a_reader_that_stopped_reading_never_blocks_the_daemon(tmp_path: Path) -> None:
    path = tmp_path / "notify"
    reader = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    reader.bind(str(path))
    try:
        notifier = Notifier(str(path))
        results = [notifier.status(f"state {i}") for i in range(500)]  # nobody reads
        assert results[0] is True and results[-1] is False  # dropped, not blocked
    finally:
        reader.close()
