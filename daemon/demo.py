"""`speakerd demo`: the whole daemon on simulated hardware, narrated as it happens.

Nothing in the daemon is replaced: `speakerd run` runs as its own process with
its real wake-word model, audio path, GPIO code, tools and Live session. Only
what a build machine lacks is simulated: the sound card (a private PulseAudio
server whose null sinks play a synthesized voice into the microphone in real
time and record the speaker), the GPIO pins (gpiozero's mock pins), and
Google (the local Live API emulator, which cannot recognise speech and so is
told what the user's first turn says).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from daemon.control.client import request
from daemon.emulator import EmulatorThread, Turn
from daemon.sim.pulse import MIC_PCM, SPEAKER_PCM, PulseAudioHarness
from daemon.sim.speech import concat, silence, synthesize, write_wav
from hardware.audio.wav import write_wav as write_pcm_wav

WAKE_PHRASE = "hey jarvis"
NEEDED_PROGRAMS = ("pulseaudio", "paplay", "parec", "espeak-ng")
READY_TIMEOUT = 90.0
CONVERSATION_TIMEOUT = 60.0

CONFIG = """\
# Written by `speakerd demo`: the defaults plus what the simulation needs.
gemini:
  base_url: "{url}"          # the local Live API emulator
  ca_file: "{ca}"            # its throw-away CA
audio:
  input_device: {mic}        # PulseAudio null-sink monitor: the synthesized voice
  output_device: {speaker}   # PulseAudio null sink: recorded into speaker.wav
relays:
  - name: lamp
    pin: 17
    description: the floor lamp in the living room
conversation:
  follow_up_seconds: 4
control:
  socket: "{socket}"
"""


class Narrator:
    """Prints the daemon's timeline lines with the time since the demo started."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.lines: list[str] = []
        self.changed = threading.Condition()

    def say(self, text: str) -> None:
        print(f"  {time.monotonic() - self.started:6.2f}s  {text}", flush=True)

    def follow(self, stream: object, log_path: Path) -> threading.Thread:
        def pump() -> None:
            with log_path.open("w") as log:
                for line in stream:  # type: ignore[attr-defined]
                    log.write(line)
                    log.flush()
                    if " speakerd.timeline: " in line:
                        event = line.split(" speakerd.timeline: ", 1)[1].rstrip()
                        self.say(event)
                        with self.changed:
                            self.lines.append(event)
                            self.changed.notify_all()

        thread = threading.Thread(target=pump, name="demo-log", daemon=True)
        thread.start()
        return thread

    def wait_for(self, words: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self.changed:
            while not any(words in line for line in self.lines):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.changed.wait(left)
        return True


def missing_programs() -> list[str]:
    return [p for p in NEEDED_PROGRAMS if shutil.which(p) is None]


def run_demo(out_dir: Path, command: str = "turn on the lamp") -> int:
    """Run the demo; 0 when the lamp was switched and the answer was played."""
    missing = missing_programs()
    if missing:
        print(
            f"speakerd demo needs {', '.join(missing)}: run scripts/demo, which installs them, "
            f"or: sudo apt-get install pulseaudio pulseaudio-utils espeak-ng",
            file=sys.stderr,
        )
        return 1
    out_dir.mkdir(parents=True, exist_ok=True)
    for chatty in ("websockets", "daemon.emulator", "daemon.sim"):
        logging.getLogger(chatty).setLevel(logging.WARNING)  # the narration says it all
    narrator = Narrator()
    spoken = f"{WAKE_PHRASE}, {command}"
    voice = concat(silence(0.5), synthesize(spoken), silence(0.5))
    mic_wav = write_wav(out_dir / "microphone.wav", voice)
    print(f"speakerd demo: the whole daemon on simulated hardware, saying {spoken!r}\n")

    with (
        EmulatorThread(speech_pace=1.0) as emulator,
        PulseAudioHarness() as pulse,
        _notify_socket() as (notify, notify_path),
    ):
        emulator.script([Turn(said=command)])
        socket_path = notify_path.with_name("control.sock")  # short: sun_path is 108 bytes
        config_path = out_dir / "config.yaml"
        settings = {"url": emulator.url, "ca": emulator.ca_file, "socket": socket_path}
        config_path.write_text(CONFIG.format(mic=MIC_PCM, speaker=SPEAKER_PCM, **settings))
        env = pulse.env()
        env.update(
            GEMINI_API_KEY="demo-key",  # short: long keys are redacted piecewise from logs
            GPIOZERO_PIN_FACTORY="mock",
            NOTIFY_SOCKET=str(notify_path),
            PYTHONUNBUFFERED="1",
        )
        narrator.say(f"starting `speakerd run --config {config_path}`")
        daemon = subprocess.Popen(
            [sys.executable, "-m", "daemon", "run", "--config", str(config_path)],
            env=env,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        log_thread = narrator.follow(daemon.stderr, out_dir / "daemon.log")
        try:
            if not _wait_ready(notify, daemon):
                narrator.say("the daemon did not become ready; see daemon.log")
                return 1
            narrator.say("ready (READY=1): models loaded, microphone open")
            with pulse.record_speaker() as recorder:
                narrator.say(f"you say: {spoken!r}")
                pulse.speak_into_mic(mic_wav)
                finished = narrator.wait_for("conversation over", CONVERSATION_TIMEOUT)
                recording = recorder.stop()
            status = asyncio.run(request(socket_path, {"cmd": "status"}))
        finally:
            code = _stop(daemon)
            log_thread.join(5)
        speaker_wav = out_dir / "speaker.wav"
        write_pcm_wav(speaker_wav, recording.pcm, recording.rate, recording.channels)
        heard = emulator.sessions[0].audio_seconds if emulator.sessions else 0.0
        model = emulator.sessions[0].model if emulator.sessions else "none (no session)"

    lamp_on = bool(status.get("relays", {}).get("lamp"))
    print()
    print(f"  model: {model} (emulated)")
    print(f"  lamp relay (mock GPIO 17): {'on' if lamp_on else 'off'}")
    for line in _sources(status):
        print(f"  {line}")
    print(f"  the emulator received {heard:.1f} s of microphone audio from the wake word on")
    print(f"  speaker output: {speaker_wav} ({recording.seconds:.1f} s)")
    print(f"  daemon log: {out_dir / 'daemon.log'}; exit code {code}")
    ok = finished and code == 0 and recording.seconds > 0
    if command == "turn on the lamp":
        ok = ok and lamp_on
    print("\ndemo " + ("finished: the appliance works." if ok else "FAILED: see the log above."))
    return 0 if ok else 1


def _sources(status: dict[str, Any]) -> list[str]:
    """The grounded answer's search and sources, as `ctl status` reports them."""
    return [
        f"google search: {t['text']}"
        for t in status.get("transcripts", [])
        if isinstance(t, dict) and t.get("role") == "sources"
    ]


@contextlib.contextmanager
def _notify_socket() -> Iterator[tuple[socket.socket, Path]]:
    """What systemd gives a Type=notify service: a datagram socket for READY=1."""
    with tempfile.TemporaryDirectory(prefix="speakerd-notify-") as tmp:
        path = Path(tmp) / "notify"
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(str(path))
        try:
            yield sock, path
        finally:
            sock.close()


def _wait_ready(sock: socket.socket, daemon: subprocess.Popen[str]) -> bool:
    deadline = time.monotonic() + READY_TIMEOUT
    sock.settimeout(0.5)
    while time.monotonic() < deadline and daemon.poll() is None:
        with contextlib.suppress(TimeoutError):
            if b"READY=1" in sock.recv(4096).split(b"\n"):
                return True
    return False


def _stop(daemon: subprocess.Popen[str]) -> int | None:
    if daemon.poll() is None:
        daemon.send_signal(signal.SIGTERM)
    try:
        return daemon.wait(10)
    except subprocess.TimeoutExpired:
        daemon.kill()
        return None


def default_out_dir() -> Path:
    return Path(os.environ.get("SPEAKERD_DEMO_OUT", "demo-output")).resolve()
