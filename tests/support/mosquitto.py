"""A real Mosquitto broker for the tests, and a client that records what it publishes.

Each broker listens on a free loopback port with its own password file (made
with mosquitto_passwd) and, optionally, TLS with a throw-away CA from
daemon.emulator.tls. It keeps nothing on disk, so a restart forgets every
retained message: what arrives after one was sent again by speakerd.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiomqtt

from daemon.emulator.tls import CertificateFiles, mint_certificates

USER = "speaker"
PASSWORD = "s3cret-Pa55-for-tests"  # grep-able: it must never appear in a log


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mosquitto:
    """`mosquitto -c conf` in a subprocess; start(), stop(), restart() on the same port."""

    def __init__(self, directory: Path, *, tls: bool = False) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.certificates: CertificateFiles | None = (
            mint_certificates(directory / "tls") if tls else None
        )
        self.log_path = directory / "mosquitto.log"
        self._proc: subprocess.Popen[bytes] | None = None
        passwords = directory / "passwords"
        passwords.touch(mode=0o600)
        subprocess.run(
            ["mosquitto_passwd", "-b", str(passwords), USER, PASSWORD],
            check=True, capture_output=True,
        )  # fmt: skip
        lines = [
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous false",
            f"password_file {passwords}",
            "persistence false",
            "user root",  # keep reading the test's private files (it drops to `mosquitto` otherwise)
            "log_type all",
        ]
        if self.certificates is not None:
            lines += [
                f"cafile {self.certificates.ca_cert}",
                f"certfile {self.certificates.server_cert}",
                f"keyfile {self.certificates.server_key}",
            ]
        self.conf = directory / "mosquitto.conf"
        self.conf.write_text("\n".join(lines) + "\n")

    @property
    def ca_file(self) -> Path:
        assert self.certificates is not None
        return self.certificates.ca_cert

    def start(self, timeout: float = 10.0) -> None:
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                ["mosquitto", "-c", str(self.conf)], stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while True:
            if self._proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited:\n{self.log_path.read_text()}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 0.2),
            ):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"mosquitto did not listen on {self.port}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None

    def freeze(self) -> None:
        """SIGSTOP: the broker holds its connections and answers nothing."""
        assert self._proc is not None, "the broker is not running"
        os.kill(self._proc.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        assert self._proc is not None, "the broker is not running"
        os.kill(self._proc.pid, signal.SIGCONT)

    def restart(self) -> None:
        self.stop()
        self.start()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def client(self, **kwargs: Any) -> aiomqtt.Client:
        """A test client (Home Assistant's side of the broker)."""
        tls = None
        if self.certificates is not None:
            import ssl

            tls = ssl.create_default_context(cafile=str(self.ca_file))
        return aiomqtt.Client(
            "127.0.0.1", self.port, username=USER, password=PASSWORD, tls_context=tls, **kwargs
        )

    def section(self, **overrides: Any) -> dict[str, Any]:
        """The `mqtt:` config section that reaches this broker."""
        section: dict[str, Any] = {
            "enabled": True,
            "host": "localhost" if self.certificates else "127.0.0.1",
            "port": self.port,
            "username": USER,
            "password_file": str(self.directory / "speaker.password"),
            "base_topic": "speakerd/test",
            "device_name": "Kitchen speaker",
        }
        (self.directory / "speaker.password").write_text(PASSWORD + "\n")
        if self.certificates is not None:
            section["tls"] = {"enabled": True, "ca_file": str(self.ca_file)}
        section.update(overrides)
        return section


@dataclass
class Recorder:
    """Every message on the subscribed topics, in order, as Home Assistant would see them."""

    client: aiomqtt.Client
    messages: list[aiomqtt.Message] = field(default_factory=list)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def payloads(self, topic: str) -> list[str]:
        return [m.payload.decode() for m in self.messages if str(m.topic) == topic]  # type: ignore[union-attr]

    def last(self, topic: str) -> aiomqtt.Message | None:
        found = [m for m in self.messages if str(m.topic) == topic]
        return found[-1] if found else None

    async def wait_for(
        self, topic: str, payload: str | None = None, timeout: float = 10.0
    ) -> aiomqtt.Message:
        """The first message on `topic` (with `payload`, if given) from now or already seen."""
        deadline = time.monotonic() + timeout
        while True:
            for message in self.messages:
                if str(message.topic) == topic and (
                    payload is None or message.payload == payload.encode()
                ):
                    return message
            left = deadline - time.monotonic()
            if left <= 0:
                seen = sorted({str(m.topic) for m in self.messages})
                raise AssertionError(
                    f"no {payload!r} on {topic} within {timeout:g} s; seen: {seen}"
                )
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), min(left, 0.2))

    def clear(self) -> None:
        self.messages.clear()

    async def publish(self, topic: str, payload: str | bytes, *, retain: bool = False) -> None:
        await self.client.publish(topic, payload, qos=1, retain=retain)

    async def collect(self) -> None:
        async for message in self.client.messages:
            self.messages.append(message)
            self._arrived.set()


@contextlib.asynccontextmanager
async def recording(broker: Mosquitto, *topics: str) -> AsyncIterator[Recorder]:
    """A connected client subscribed to `topics` (default: everything)."""
    async with broker.client() as client:
        recorder = Recorder(client)
        task = asyncio.create_task(recorder.collect())
        await client.subscribe([(topic, 1) for topic in topics or ("#",)])
        try:
            yield recorder
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
                await task
