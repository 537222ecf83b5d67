"""The whole appliance, end to end: real daemon, real audio in real time, real SDK.

Every appliance test drives `speakerd` the way its owner does: by speaking
into the microphone (espeak-ng speech played into a private PulseAudio server,
in real time), by `speakerd ctl`, by the button's pin, and by signals. The
model is the project's Live API emulator; the pins are gpiozero mock pins.

File-backed ALSA capture runs faster than real time and repeats silence at
full speed after the file ends, so the daemon always gets the PulseAudio
harness here. Starting one costs seconds: modules share one harness (and one
emulator) where they can.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from gpiozero.pins.mock import MockFactory

from daemon.appliance.appliance import Appliance
from daemon.config.schema import Config
from daemon.control.client import request
from daemon.emulator import EmulatorThread
from daemon.runtime.service import serve
from daemon.sim.pulse import PulseAudioHarness
from tests.support.mosquitto import Mosquitto
from tests.support.speech import concat, silence, speech_bounds, synthesize, write_wav

REPO = Path(__file__).resolve().parents[2]
MODELS_DIR = REPO / "models"
WAKE_PHRASE = "hey jarvis"
API_KEY = "e2e-test-key"


# -- waiting -----------------------------------------------------------------------------


def wait_until(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll until `predicate()` is truthy; fail naming `what` (a bound, not a speed test)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)


async def async_wait_until(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(0.05)


# -- speech ------------------------------------------------------------------------------


class Speech:
    """WAV files of synthesized speech, written once per test session."""

    GAP_SECONDS = 0.15  # "hey jarvis, ..." in one breath: no pause for the chime

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._files: dict[tuple[str, bool], Path] = {}

    def words(self, text: str) -> np.ndarray:
        """espeak-ng's speech for `text` without its silent edges (it adds ~0.4 s after)."""
        audio = synthesize(text)
        start, end = speech_bounds(audio)
        return audio[start:end]

    def samples(self, text: str, *, wake: bool) -> np.ndarray:
        parts = [silence(0.3)]
        if wake:
            parts += [self.words(WAKE_PHRASE), silence(self.GAP_SECONDS)]
        if text:
            parts.append(self.words(text))
        parts.append(silence(0.8))  # the end of speech, for the model's activity detection
        return concat(*parts)

    def wav(self, text: str = "", *, wake: bool = True) -> Path:
        """'hey jarvis, <text>' (wake=True) or just <text>, as a 16 kHz WAV file."""
        key = (text, wake)
        if key not in self._files:
            name = f"{'wake-' if wake else ''}{'-'.join(text.split()) or 'only'}.wav"
            self._files[key] = write_wav(self.directory / name, self.samples(text, wake=wake))
        return self._files[key]


@pytest.fixture(scope="session")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Speech:
    return Speech(tmp_path_factory.mktemp("speech"))


# -- the shared real-time audio and the model ----------------------------------------------


@pytest.fixture(scope="module")
def pulse() -> Iterator[PulseAudioHarness]:
    with PulseAudioHarness() as harness:
        yield harness


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorThread]:
    # speech_pace 4: replies arrive faster than they play, as they do from Google.
    with EmulatorThread(speech="tone", speech_pace=4.0) as emu:
        yield emu


@pytest.fixture
def emu(emulator: EmulatorThread) -> EmulatorThread:
    """The module's emulator with no script or fault left over from another test."""
    emulator.clear_script()
    emulator.call(lambda e: e.faults.clear())
    return emulator


@pytest.fixture
def workdir() -> Iterator[Path]:
    """A short path: Unix socket paths are limited to 107 bytes."""
    with tempfile.TemporaryDirectory(prefix="spk-e2e-") as directory:
        yield Path(directory)


@pytest.fixture
def broker(workdir: Path) -> Iterator[Mosquitto]:
    """A real Mosquitto broker on a free port, for the daemon's MQTT bridge."""
    server = Mosquitto(workdir / "broker")
    server.start()
    yield server
    server.stop()


# -- configuration -------------------------------------------------------------------------

RELAYS = [
    {"name": "lamp", "pin": 17, "description": "the floor lamp"},
    {"name": "fan", "pin": 27, "description": "the ceiling fan"},
    {"name": "heater", "pin": 22, "active_high": False, "description": "the heater"},
    {"name": "kettle", "pin": 24, "description": "the kettle"},
]


def appliance_config(workdir: Path, emulator: EmulatorThread, **sections: Any) -> dict[str, Any]:
    """A config for the harness devices and this emulator; `sections` override by key."""
    config: dict[str, Any] = {
        "gemini": {"base_url": emulator.url, "ca_file": str(emulator.ca_file)},
        "wake_word": {"models": ["hey_jarvis"], "models_dir": str(MODELS_DIR)},
        "audio": {
            "input_device": "mic",
            "output_device": "speaker",
            "wake_sound": None,
            "error_sound": None,
            "half_duplex_tail_ms": 200,
        },
        "conversation": {"follow_up_seconds": 2.5},
        "button": {"pin": 23, "hold_seconds": 0.6},
        "relays": RELAYS,
        "control": {"socket": str(workdir / "ctl.sock")},
        "timers": {"state_dir": str(workdir / "state")},
    }
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            config[key] = {**config[key], **value}
        else:
            config[key] = value
    return config


def write_config(workdir: Path, config: dict[str, Any]) -> Path:
    path = workdir / "config.yaml"
    path.write_text(json.dumps(config, indent=2))  # JSON is YAML
    return path


# -- `speakerd run` as a process -------------------------------------------------------------


class NotifyListener:
    """The datagram socket systemd would listen on: every sd_notify message, in order."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.messages: list[tuple[float, list[str]]] = []
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(str(path))
        self._sock.settimeout(0.2)
        self._closed = False
        self._thread = threading.Thread(target=self._read, name="notify", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._closed:
            try:
                data = self._sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            self.messages.append((time.monotonic(), data.decode().split("\n")))

    def fields(self) -> list[str]:
        return [field for _, fields in list(self.messages) for field in fields]

    def statuses(self) -> list[str]:
        return [f.removeprefix("STATUS=") for f in self.fields() if f.startswith("STATUS=")]

    def close(self) -> None:
        self._closed = True
        self._thread.join(2)
        self._sock.close()


class DaemonProcess:
    """`speakerd run` in a subprocess, with the harness's audio and mock GPIO pins."""

    def __init__(
        self,
        config_path: Path,
        pulse: PulseAudioHarness,
        workdir: Path,
        *,
        api_key: str | None = API_KEY,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.config_path = config_path
        self.socket = Path(json.loads(config_path.read_text())["control"]["socket"])
        self.log_path = workdir / "daemon.log"
        self.notify = NotifyListener(workdir / "notify.sock")
        self.status_at_ready: dict[str, Any] | None = None
        env = pulse.env()
        env.pop("GEMINI_API_KEY", None)
        if api_key is not None:
            env["GEMINI_API_KEY"] = api_key
        env.update(
            GPIOZERO_PIN_FACTORY="mock",
            NOTIFY_SOCKET=str(self.notify.path),
            PYTHONUNBUFFERED="1",
            **(extra_env or {}),
        )
        with open(self.log_path, "wb") as log_file:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "daemon", "run", "--config", str(config_path)],
                env=env, cwd=REPO, stdin=subprocess.DEVNULL, stdout=log_file,
                stderr=subprocess.STDOUT,
            )  # fmt: skip

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 60.0) -> None:
        def ready() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"speakerd exited with {self.proc.returncode} before READY=1:\n{self.log()}"
                )
            return "READY=1" in self.notify.fields()

        wait_until(ready, timeout, "READY=1 from speakerd")
        self.status_at_ready = self.status()  # READY=1 promises a working appliance

    def request(self, payload: dict[str, Any]) -> dict[str, Any]:
        """One control-socket request, as `speakerd ctl` sends it (without a new process)."""
        return asyncio.run(request(self.socket, payload))

    def status(self) -> dict[str, Any]:
        reply = self.request({"cmd": "status"})
        assert reply["ok"], reply
        return reply

    def ctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`speakerd ctl --socket ... <args>` as a user types it."""
        return subprocess.run(
            [sys.executable, "-m", "daemon", "ctl", "--socket", str(self.socket), *args],
            cwd=REPO, capture_output=True, text=True, timeout=30,
        )  # fmt: skip

    def wait_state(self, state: str, timeout: float = 20.0) -> dict[str, Any]:
        return wait_until(
            lambda: (s := self.status())["state"] == state and s, timeout, f"state {state}"
        )

    def wait_status_line(self, start: int, state: str, timeout: float = 20.0) -> int:
        """Index of the first STATUS= line from `start` on that reports `state`."""

        def find() -> int | None:
            for index, line in enumerate(self.notify.statuses()[start:], start):
                if line.split(":")[0] == state:
                    return index + 1  # truthy even for index 0
            return None

        return wait_until(find, timeout, f"STATUS={state}") - 1

    def terminate(self, timeout: float = 20.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(
                f"speakerd ignored SIGTERM for {timeout:g} s:\n{self.log()}"
            ) from None

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.notify.close()


@contextlib.contextmanager
def running_daemon(
    workdir: Path, pulse: PulseAudioHarness, config: dict[str, Any], **kwargs: Any
) -> Iterator[DaemonProcess]:
    daemon = DaemonProcess(write_config(workdir, config), pulse, workdir, **kwargs)
    try:
        daemon.wait_ready()
        yield daemon
    finally:
        daemon.close()


# -- serve() in the test's own event loop ----------------------------------------------------


class InProcessDaemon:
    """serve() on the test's loop with mock pins the test can press and read."""

    def __init__(self, config: Config, pins: MockFactory) -> None:
        self.config = config
        self.pins = pins
        self.appliance: Appliance | None = None
        self.task: asyncio.Task[int] | None = None

    async def start(self, timeout: float = 60.0) -> Appliance:
        ready: asyncio.Future[Appliance] = asyncio.get_running_loop().create_future()
        self.task = asyncio.create_task(
            serve(self.config, API_KEY, pin_factory=self.pins, on_ready=ready.set_result)
        )
        done, _ = await asyncio.wait({ready, self.task}, timeout=timeout,
                                     return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
        if self.task in done:
            raise AssertionError(f"serve() returned {self.task.result()} before it was ready")
        if ready not in done:
            raise AssertionError("serve() did not become ready")
        self.appliance = ready.result()
        return self.appliance

    async def stopped(self, timeout: float = 20.0) -> int:
        """The exit code serve() returns, once it has been asked to stop."""
        assert self.task is not None
        return await asyncio.wait_for(asyncio.shield(self.task), timeout)

    async def stop(self) -> int:
        assert self.appliance is not None and self.task is not None
        if not self.task.done():
            self.appliance.shutdown()
        return await self.stopped()

    @property
    def state(self) -> str:
        assert self.appliance is not None
        return str(self.appliance.machine.state)

    async def wait_state(self, state: str, timeout: float = 20.0) -> None:
        await async_wait_until(lambda: self.state == state, timeout, f"state {state}")

    async def speak(self, pulse: PulseAudioHarness, wav: Path) -> None:
        """Play into the microphone in real time without blocking the daemon's loop."""
        player = pulse.speak_into_mic(wav, wait=False)
        code = await asyncio.to_thread(player.wait)
        assert code == 0, f"paplay {wav} failed"

    async def ctl(self, *args: str) -> tuple[int, str]:
        """`speakerd ctl` in a subprocess (without blocking this loop)."""
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "daemon", "ctl", "--socket", str(self.config.control.socket),
            *args, cwd=REPO, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        out, _ = await process.communicate()
        return process.returncode or 0, out.decode()


@contextlib.asynccontextmanager
async def in_process_daemon(
    pulse: PulseAudioHarness, config: dict[str, Any]
) -> AsyncIterator[InProcessDaemon]:
    pins = MockFactory()
    daemon = InProcessDaemon(Config.model_validate(config), pins)
    try:
        with pulse.activate():
            await daemon.start()
            try:
                yield daemon
            finally:
                if daemon.task is not None and not daemon.task.done():
                    await daemon.stop()
    finally:
        pins.close()


def os_environ_without_key() -> dict[str, str]:
    """This process's environment minus the API key (the developer's own must not leak in)."""
    env = dict(os.environ)
    env.pop("GEMINI_API_KEY", None)
    return env
