"""A private PulseAudio server that gives tests a real-time microphone and speaker.

File-backed ALSA devices run as fast as they are read; timing needs a clock.
This starts `pulseaudio` with two null sinks under a throw-away runtime
directory:

- `micfeed`: whatever is played into it (`speak_into_mic`) is what the ALSA
  PCM `mic` captures, through the sink's monitor, in real time;
- `speaker`: the ALSA PCM `speaker` plays into it; `record_speaker()` records
  its monitor, i.e. what a listener in the room would have heard.

PyAudio reaches both through ALSA's pulse plugin, so the code under test is
unchanged. Everything (server, recorders, files) is cleaned up on exit.

    with PulseAudioHarness() as pa:
        run_daemon(env=pa.env())          # audio.input_device: mic, output_device: speaker
        pa.speak_into_mic("hey_jarvis.wav")
        with pa.room(delay_ms=40):        # the speaker is heard by the microphone
            ...
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from daemon.sim.alsa_files import SYSTEM_ALSA_CONF, Recording

log = logging.getLogger(__name__)

MIC_PCM = "mic"
SPEAKER_PCM = "speaker"


class PulseAudioError(RuntimeError):
    """The private PulseAudio server did not come up (the message holds its log)."""


class PulseAudioHarness:
    """Start with `with PulseAudioHarness() as pa:` (or start()/stop())."""

    def __init__(
        self,
        *,
        mic_rate: int = 16000,
        speaker_rate: int = 48000,
        speaker_channels: int = 2,
        startup_timeout: float = 10.0,
    ) -> None:
        self.mic_rate = mic_rate
        self.speaker_rate = speaker_rate
        self.speaker_channels = speaker_channels
        self.startup_timeout = startup_timeout
        self.directory: Path | None = None
        self.startup_seconds: float | None = None
        """How long the last start() took until the server answered."""
        self._server: subprocess.Popen[bytes] | None = None
        self._children: list[subprocess.Popen[bytes]] = []

    # -- lifecycle ---------------------------------------------------------

    def __enter__(self) -> PulseAudioHarness:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        if shutil.which("pulseaudio") is None:
            raise PulseAudioError("pulseaudio is not installed (apt install pulseaudio)")
        began = time.monotonic()
        self.directory = Path(tempfile.mkdtemp(prefix="speakerd-pa-"))
        runtime = self.directory / "run"
        runtime.mkdir(mode=0o700)
        (self.directory / "home").mkdir()
        self.config_path.write_text(self._asoundrc())
        modules = [
            f"module-native-protocol-unix socket={self.socket} auth-anonymous=1",
            f"module-null-sink sink_name=micfeed rate={self.mic_rate} channels=1",
            f"module-null-sink sink_name=speaker rate={self.speaker_rate} "
            f"channels={self.speaker_channels}",
        ]
        args = ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1",
                "--disallow-exit", "--use-pid-file=no", "--log-target=stderr",
                "--log-level=error"]
        for module in modules:
            args += ["-L", module]
        server_env = self.env()
        server_env["HOME"] = str(self.directory / "home")
        with open(self.directory / "pulseaudio.log", "wb") as log_file:
            self._server = subprocess.Popen(
                args, env=server_env, stdin=subprocess.DEVNULL, stdout=log_file,
                stderr=subprocess.STDOUT, start_new_session=True,
            )
        atexit.register(self.stop)  # a test run that dies must not leave a server behind
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - began
        log.debug("PulseAudio harness up in %.3f s at %s", self.startup_seconds, self.directory)

    def stop(self) -> None:
        """Stop recorders and the server; remove every file. Safe to call twice."""
        atexit.unregister(self.stop)
        for child in [*self._children, self._server]:
            if child is not None and child.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    child.send_signal(signal.SIGTERM)
                try:
                    child.wait(5)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
        self._children.clear()
        self._server = None
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None

    # -- what tests use ------------------------------------------------------

    def kill_server(self) -> None:
        """The sound server dies (a crash, a user session ending); the harness stays."""
        assert self._server is not None, "the sound server is not running"
        self._server.terminate()
        self._server.wait()

    @property
    def socket(self) -> Path:
        assert self.directory is not None, "start() first"
        return self.directory / "run" / "native"

    @property
    def config_path(self) -> Path:
        assert self.directory is not None, "start() first"
        return self.directory / "asoundrc"

    def env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """Environment under which PyAudio sees `mic` and `speaker` on this server."""
        assert self.directory is not None, "start() first"
        env = dict(os.environ if base is None else base)
        env.update(
            XDG_RUNTIME_DIR=str(self.directory / "run"),
            PULSE_SERVER=f"unix:{self.socket}",
            ALSA_CONFIG_PATH=str(self.config_path),
            JACK_NO_START_SERVER="1",
        )
        env.pop("PULSE_COOKIE", None)
        return env

    @contextlib.contextmanager
    def activate(self) -> Iterator[PulseAudioHarness]:
        """Use this server's devices in this process (PortAudio re-scans; no stream open)."""
        from hardware.audio import host

        keys = ("XDG_RUNTIME_DIR", "PULSE_SERVER", "ALSA_CONFIG_PATH")
        saved = {k: os.environ.get(k) for k in keys}
        env = self.env()
        os.environ.update({k: env[k] for k in keys})
        if not host.rescan():
            raise RuntimeError("cannot switch ALSA devices while a PortAudio stream is open")
        try:
            yield self
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            host.rescan()

    def speak_into_mic(self, wav: str | Path, *, wait: bool = True) -> subprocess.Popen[bytes]:
        """Play a WAV file into the microphone in real time (wait: until it has finished)."""
        player = subprocess.Popen(
            ["paplay", "--device=micfeed", str(wav)], env=self.env(),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        self._children.append(player)
        if wait:
            _, err = player.communicate()
            if player.returncode:
                raise PulseAudioError(f"paplay {wav} failed: {err.decode(errors='replace')}")
        return player

    @contextlib.contextmanager
    def room(self, *, delay_ms: int = 40, volume_percent: int = 50) -> Iterator[None]:
        """The simulated room, in real time: what the speaker plays reaches the microphone
        `delay_ms` later at `volume_percent` of its level (module-loopback from the
        speaker sink's monitor into the mic feed), mixed with speak_into_mic()."""
        env = self.env()
        loaded = subprocess.run(
            ["pactl", "load-module", "module-loopback", "source=speaker.monitor", "adjust_time=0",
             "sink=micfeed", f"latency_msec={delay_ms}", "source_dont_move=true",
             "sink_dont_move=true", "remix=true"],
            env=env, capture_output=True, text=True,
        )
        if loaded.returncode:
            raise PulseAudioError(f"module-loopback did not load: {loaded.stderr.strip()}")
        module = loaded.stdout.strip()  # adjust_time=0: null sinks have no clock to follow
        try:
            self._set_loopback_volume(module, volume_percent)
            yield
        finally:
            subprocess.run(["pactl", "unload-module", module], env=env, capture_output=True)

    def _set_loopback_volume(self, module: str, percent: int) -> None:
        """The attenuation: the loopback's source output (it appears a moment after loading)."""
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:
            listing = subprocess.run(["pactl", "list", "short", "source-outputs"],
                                     env=self.env(), capture_output=True, text=True).stdout
            for line in listing.splitlines():
                fields = line.split()
                if "module-loopback.c" in fields:  # the harness loads one loopback at most
                    subprocess.run(["pactl", "set-source-output-volume", fields[0],
                                    f"{percent}%"], env=self.env(), capture_output=True,
                                   check=True)
                    return
            time.sleep(0.05)
        raise PulseAudioError(f"the room's loopback (module {module}) has no source output")

    @contextlib.contextmanager
    def record_speaker(self, rate: int = 24000) -> Iterator[SpeakerRecorder]:
        """Record what the speaker plays (mono, `rate`) while the block runs."""
        assert self.directory is not None, "start() first"
        recorder = SpeakerRecorder(self, rate)
        try:
            yield recorder
        finally:
            recorder.stop()

    def spawn_recorder(self, rate: int) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            ["parec", "--device=speaker.monitor", "--raw", "--format=s16le",
             f"--rate={rate}", "--channels=1", "--latency-msec=20"],
            env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
        self._children.append(proc)
        return proc

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        env = self.env()
        while time.monotonic() < deadline:
            assert self._server is not None
            if self._server.poll() is not None:
                break
            if self.socket.exists():
                probe = subprocess.run(["pactl", "info"], env=env, capture_output=True)
                if probe.returncode == 0:
                    return
            time.sleep(0.02)
        assert self.directory is not None
        log_text = (self.directory / "pulseaudio.log").read_text(errors="replace")[-2000:]
        raise PulseAudioError(f"private PulseAudio server did not start: {log_text.strip()}")

    def _asoundrc(self) -> str:
        return (
            f"<{SYSTEM_ALSA_CONF}>\n"
            f'pcm.{MIC_PCM} {{ type pulse; device "micfeed.monitor"\n'
            f'  hint.description "PulseAudio harness microphone (micfeed.monitor)" }}\n'
            f'pcm.{SPEAKER_PCM} {{ type pulse; device "speaker"\n'
            f'  hint.description "PulseAudio harness speaker" }}\n'
            f"pcm.!default {{ type asym; capture.pcm \"{MIC_PCM}\"; "
            f'playback.pcm "{SPEAKER_PCM}" }}\n'
        )


class SpeakerRecorder:
    """A running `parec` of the speaker sink's monitor, read through a pipe.

    A null sink's monitor only produces samples while something plays into the
    sink, so measure how much of a signal was heard, not where silence fell.
    """

    def __init__(self, harness: PulseAudioHarness, rate: int) -> None:
        self.rate = rate
        self.started_at = time.monotonic()
        self._proc = harness.spawn_recorder(rate)
        self._data = bytearray()
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, name="parec-reader", daemon=True)
        self._reader.start()
        self._result: Recording | None = None

    def _read(self) -> None:
        assert self._proc.stdout is not None
        stdout: Any = self._proc.stdout  # a BufferedReader: read1 returns what is there
        while chunk := stdout.read1(4096):
            with self._lock:
                self._data += chunk

    def snapshot(self) -> Recording:
        """What has been recorded so far (the recorder keeps running)."""
        with self._lock:
            pcm = bytes(self._data)
        return Recording(pcm[: len(pcm) - len(pcm) % 2], self.rate, 1)

    def stop(self) -> Recording:
        if self._result is None:
            if self._proc.poll() is None:
                self._proc.send_signal(signal.SIGINT)
                try:
                    self._proc.wait(5)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait()
            self._reader.join(5)
            self._result = self.snapshot()
        return self._result
