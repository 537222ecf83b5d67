"""The bench's world: a real-time PulseAudio mic/speaker, the emulator, and daemon processes.

The emulator runs in a thread of this process with its Session class swapped
for one that also stamps, with time.monotonic(), when the connection was
accepted, setupComplete sent, the first microphone audio accepted, and each
model audio chunk or `interrupted` sent. The emulator's behaviour is unchanged.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from daemon.emulator import EmulatorThread
from daemon.emulator import server as emulator_server
from daemon.emulator.session import Session
from daemon.sim.pulse import PulseAudioHarness

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


class TimedSession(Session):
    """An emulator session that notes its moments in `record.marks` (monotonic seconds)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.record.marks = {"model_audio": [], "interrupted": []}  # type: ignore[attr-defined]

    @property
    def marks(self) -> dict[str, Any]:
        return self.record.marks  # type: ignore[attr-defined,no-any-return]

    async def run(self) -> None:
        self.marks["ws_open"] = time.monotonic()  # TLS and the HTTP upgrade are done
        await super().run()

    async def _handshake(self) -> bool:
        ok = await super()._handshake()
        self.marks["setup_complete"] = time.monotonic()
        return ok

    async def _audio(self, blob: Any) -> None:
        await super()._audio(blob)
        self.marks.setdefault("first_audio", time.monotonic())

    async def send(self, message: dict[str, Any]) -> None:
        content = message.get("serverContent") or {}
        if "modelTurn" in content and any(
            "inlineData" in part for part in content["modelTurn"].get("parts", [])
        ):
            self.marks["model_audio"].append(time.monotonic())
        if content.get("interrupted"):
            self.marks["interrupted"].append(time.monotonic())
        await super().send(message)


class Daemon:
    """A daemon subprocess whose READY=1 is awaited on a private NOTIFY_SOCKET."""

    def __init__(self, command: list[str], env: dict[str, str], workdir: Path, name: str) -> None:
        self.name = name
        self.notify_path = workdir / f"{name}.notify"
        self.log_path = workdir / f"{name}.log"
        with contextlib.suppress(FileNotFoundError):
            self.notify_path.unlink()
        self._notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._notify.bind(str(self.notify_path))
        self.notifications: list[tuple[float, bytes]] = []
        """Every sd_notify datagram with its arrival time (monotonic)."""
        self._ready = threading.Event()
        self._closing = False
        # Read every datagram, as systemd does: the daemon's sendto() blocks (and with
        # it the daemon's event loop) once 10 unread datagrams fill the socket's queue.
        self._reader = threading.Thread(target=self._read_notifications, daemon=True)
        self._reader.start()
        env = {**env, "NOTIFY_SOCKET": str(self.notify_path)}
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (closed in stop())
        self.launched_at = time.monotonic()
        self.proc = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT
        )
        self.ready_at: float | None = None

    def _read_notifications(self) -> None:
        self._notify.settimeout(0.2)
        while not self._closing:
            try:
                message = self._notify.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            now = time.monotonic()
            self.notifications.append((now, message))
            if b"READY=1" in message.split(b"\n") and self.ready_at is None:
                self.ready_at = now
                self._ready.set()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_ready(self, timeout: float = 60.0) -> float:
        """Seconds from launch to READY=1."""
        deadline = time.monotonic() + timeout
        while not self._ready.wait(0.2):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} never sent READY=1; see {self.log_path}:\n"
                                   + self.log_path.read_text(errors="replace")[-3000:])
        assert self.ready_at is not None
        return self.ready_at - self.launched_at

    def stop(self, timeout: float = 15.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._closing = True
        self._reader.join(2)
        self._notify.close()
        self._log.close()
        with contextlib.suppress(FileNotFoundError):
            self.notify_path.unlink()
        return self.proc.returncode


class Stage:
    """PulseAudio harness + timed emulator + config files, for one bench run."""

    def __init__(self, workdir: Path, *, speech_pace: float) -> None:
        self.workdir = workdir
        self.speech_pace = speech_pace
        self.pulse = PulseAudioHarness()
        emulator_server.Session = TimedSession  # type: ignore[misc]
        self.emulator = EmulatorThread(speech="tone", speech_pace=speech_pace)

    def __enter__(self) -> Stage:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.pulse.start()
        try:
            self.emulator.start()
        except BaseException:
            self.pulse.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.emulator.stop()
        self.pulse.stop()

    @property
    def sessions(self) -> list[Any]:
        assert self.emulator.emulator is not None
        return self.emulator.emulator.sessions

    def env(self) -> dict[str, str]:
        env = self.pulse.env()
        env.update(
            GEMINI_API_KEY="bench-key",
            GPIOZERO_PIN_FACTORY="mock",
            PYTHONUNBUFFERED="1",
            SPEAKERD_MODELS_DIR=str(ROOT / "models"),
            PYTHONPATH=str(ROOT),
        )
        env.pop("NOTIFY_SOCKET", None)
        return env

    def write_config(self, name: str, *, camera: bool = True, follow_up: float = 4.0,
                     wake_sound: str | None = "chime", barge_in: bool | None = None,
                     echo_cancellation: str = "off") -> Path:
        """The appliance as an owner would configure it, pointed at the emulator.

        Without echo cancellation unless asked: the cookbook client beside it has none."""
        path = self.workdir / f"{name}.yaml"
        config = {
            "gemini": {"base_url": self.emulator.url, "ca_file": str(self.emulator.ca_file)},
            "audio": {"input_device": "mic", "output_device": "speaker",
                      "wake_sound": wake_sound, "barge_in": barge_in,
                      "echo_cancellation": echo_cancellation},
            "camera": {"enabled": camera, "fps": 1.0},
            "relays": [{"name": "lamp", "pin": 17, "description": "the floor lamp"}],
            "conversation": {"follow_up_seconds": follow_up},
            "control": {"socket": str(self.workdir / f"{name}.sock")},
        }
        path.write_text(json.dumps(config, indent=2))  # JSON is YAML
        return path

    def start_runner(self, name: str, config: Path, *, fake_camera: bool = True,
                     cpu: int | None = None) -> Daemon:
        """The daemon's serve() under bench.runner (timestamps kept, dumped on stop).

        With `cpu`, under `taskset -c CPU`: every thread of it on that one core.
        """
        events = self.workdir / f"{name}.events.json"
        command = [PYTHON, "-m", "bench.runner", "--config", str(config), "--events", str(events)]
        if fake_camera:
            command.append("--fake-camera")
        if cpu is not None:
            command = ["taskset", "-c", str(cpu), *command]
        daemon = Daemon(command, self.env(), self.workdir, name)
        daemon.events_path = events  # type: ignore[attr-defined]
        return daemon

    def start_speakerd(self, name: str, config: Path) -> Daemon:
        """`speakerd run` exactly as systemd starts it."""
        return Daemon([PYTHON, "-m", "daemon", "run", "--config", str(config)],
                      self.env(), self.workdir, name)

    def control(self, config_name: str, command: str, **fields: Any) -> dict[str, Any]:
        """One request on the daemon's control socket (what `speakerd ctl` sends)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(20)
            sock.connect(str(self.workdir / f"{config_name}.sock"))
            sock.sendall(json.dumps({"cmd": command, **fields}).encode() + b"\n")
            reply = b""
            while not reply.endswith(b"\n"):
                piece = sock.recv(65536)
                if not piece:
                    break
                reply += piece
        return json.loads(reply or b"{}")

    def wait_for(self, predicate: Any, timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.02)
        raise TimeoutError(f"bench: timed out waiting for {what}")


def load_events(daemon: Daemon) -> dict[str, Any]:
    path = daemon.events_path  # type: ignore[attr-defined]
    if not os.path.exists(path):
        raise RuntimeError(f"{daemon.name} left no events file; see {daemon.log_path}")
    with open(path) as events:
        return json.load(events)
