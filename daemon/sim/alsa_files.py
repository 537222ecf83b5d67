"""File-backed ALSA devices: a microphone that reads a file, a speaker that writes one.

PyAudio -> PortAudio -> ALSA stays real; only the sound card is replaced by
ALSA's own `file` plugin, declared in a generated config that ALSA reads
through ALSA_CONFIG_PATH (it must be set before PortAudio initialises, so use
`env()` for a subprocess, or `activate()` in-process before any stream opens).

These devices run as fast as the reader/writer asks, not in real time: good
for logic, wrong for timing (use daemon.sim.pulse for that).

What happens at the end of a microphone's file: ALSA's file plugin keeps
returning the last ALSA buffer (a few periods) forever, at full speed. So every
microphone file gets `tail_silence_s` of silence appended: after the audio the
microphone "hears" silence, never an error storm or a looping word. Readers
that must not miss audio open the Microphone with `lossless=True`.
"""

from __future__ import annotations

import contextlib
import os
import struct
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hardware.audio.convert import float_to_int16, resample
from hardware.audio.wav import read_wav

SYSTEM_ALSA_CONF = Path(os.environ.get("ALSA_CONFIG_DIR", "/usr/share/alsa")) / "alsa.conf"


@dataclass(frozen=True)
class SimMicrophone:
    """A capture PCM that plays `infile` (raw s16le at `rate` x `channels`)."""

    name: str
    infile: Path
    rate: int
    channels: int


@dataclass(frozen=True)
class SimSpeaker:
    """A playback PCM whose audio lands in `outfile` as WAV (ALSA writes the header)."""

    name: str
    outfile: Path


@dataclass(frozen=True)
class Recording:
    """What a simulated speaker received."""

    pcm: bytes
    rate: int
    channels: int

    def mono(self) -> np.ndarray:
        samples = np.frombuffer(self.pcm, dtype=np.int16)
        if self.channels > 1:
            samples = samples[: len(samples) - len(samples) % self.channels]
            samples = samples.reshape(-1, self.channels).mean(axis=1).astype(np.int16)
        return samples

    @property
    def seconds(self) -> float:
        return len(self.pcm) / (2 * self.channels * self.rate) if self.rate else 0.0


class FileBackedAlsa:
    """Declare simulated ALSA devices in `directory` and hand out the env that selects them.

        sim = FileBackedAlsa(tmp_path)
        sim.add_microphone("sim_mic", "hello.wav")
        sim.add_speaker("sim_speaker")
        subprocess.run(["speakerd", "run"], env=sim.env())
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.config_path = self.directory / "asoundrc"
        self.microphones: dict[str, SimMicrophone] = {}
        self.speakers: dict[str, SimSpeaker] = {}
        self.default: tuple[str | None, str | None] = (None, None)
        self._active = False
        self._write()

    def add_microphone(
        self,
        name: str = "sim_mic",
        audio: bytes | str | Path | None = None,
        *,
        rate: int = 16000,
        channels: int = 1,
        tail_silence_s: float = 3.0,
    ) -> SimMicrophone:
        """A microphone hearing `audio` (a WAV path, or raw s16le at rate x channels), then silence.

        The file holds `rate` x `channels` frames (a WAV's mono signal goes on every
        channel); ALSA's file plugin cannot refuse other formats, so open it with
        exactly these (Microphone(device_rate=rate, device_channels=channels)).
        """
        if isinstance(audio, (str, Path)):
            samples, file_rate = read_wav(audio)
            mono = float_to_int16(resample(samples, file_rate, rate))
            raw = np.repeat(mono, channels).tobytes() if channels > 1 else mono.tobytes()
        else:
            raw = audio or b""
        silence = bytes(int(tail_silence_s * rate) * channels * 2)
        infile = self.directory / f"{name}.raw"
        infile.write_bytes(raw + silence)
        mic = SimMicrophone(name, infile, rate, channels)
        self.microphones[name] = mic
        self._write()
        return mic

    def add_speaker(self, name: str = "sim_speaker") -> SimSpeaker:
        speaker = SimSpeaker(name, self.directory / f"{name}.wav")
        self.speakers[name] = speaker
        self._write()
        return speaker

    def set_default(self, microphone: str | None, speaker: str | None) -> None:
        """Which simulated devices ALSA's `default` PCM (PortAudio's default) stands for."""
        self.default = (microphone, speaker)
        self._write()

    def env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """`base` (default: os.environ) plus what makes ALSA read our config."""
        env = dict(os.environ if base is None else base)
        env["ALSA_CONFIG_PATH"] = str(self.config_path)
        env["JACK_NO_START_SERVER"] = "1"
        return env

    @contextlib.contextmanager
    def activate(self) -> Iterator[FileBackedAlsa]:
        """Use these devices in this process (PortAudio re-scans; no stream may be open)."""
        from hardware.audio import host

        saved = os.environ.get("ALSA_CONFIG_PATH")
        os.environ["ALSA_CONFIG_PATH"] = str(self.config_path)
        if not host.rescan():
            raise RuntimeError("cannot switch ALSA devices while a PortAudio stream is open")
        self._active = True
        try:
            yield self
        finally:
            self._active = False
            if saved is None:
                os.environ.pop("ALSA_CONFIG_PATH", None)
            else:
                os.environ["ALSA_CONFIG_PATH"] = saved
            host.rescan()

    def recording(self, name: str = "sim_speaker") -> Recording:
        """What the speaker `name` has written so far (complete once its stream closed)."""
        return read_alsa_wav(self.speakers[name].outfile)

    def _write(self) -> None:
        parts = [f"<{SYSTEM_ALSA_CONF}>", ""]
        for mic in self.microphones.values():
            parts.append(_capture_pcm(mic))
        for speaker in self.speakers.values():
            parts.append(_playback_pcm(speaker))
        mic_name, speaker_name = self.default
        if mic_name or speaker_name:
            lines = ["pcm.!default {", "  type asym"]
            if mic_name:
                lines.append(f'  capture.pcm "{mic_name}"')
            if speaker_name:
                lines.append(f'  playback.pcm "{speaker_name}"')
            parts.append("\n".join([*lines, "}", ""]))
        self.config_path.write_text("\n".join(parts))
        if self._active:
            from hardware.audio import host

            host.rescan()  # PortAudio lists devices only when it starts (no-op while streaming)


def _capture_pcm(mic: SimMicrophone) -> str:
    # The file plugin takes any rate and channel count and hands out the file's bytes
    # as whatever was asked for, so a reader must open it at mic.rate x mic.channels
    # (Microphone(device_rate=..., device_channels=...)). Wrapping it in `multi` to pin
    # the channels does not work: multi bypasses the plugin's infile reading (silence).
    return (
        f"pcm.{mic.name} {{\n  type asym\n"
        f'  capture.pcm {{ type file; slave.pcm "null"; file "/dev/null"; '
        f'infile "{mic.infile}"; format "raw" }}\n'
        f'  hint.description "simulated microphone ({mic.rate} Hz, {mic.channels} ch)"\n}}\n'
    )


def _playback_pcm(speaker: SimSpeaker) -> str:
    return (
        f"pcm.{speaker.name} {{\n  type asym\n"
        f'  playback.pcm {{ type file; slave.pcm "null"; file "{speaker.outfile}"; format "wav" }}\n'
        f'  hint.description "simulated speaker (writes {speaker.outfile.name})"\n}}\n'
    )


def read_alsa_wav(path: Path) -> Recording:
    """Read the WAV that ALSA's file plugin wrote; tolerant of a header not yet finalised."""
    if not path.exists():
        return Recording(b"", 0, 1)
    data = path.read_bytes()
    if len(data) < 44 or data[:4] != b"RIFF":
        return Recording(b"", 0, 1)
    rate, channels = 0, 1
    pos = 12
    while pos + 8 <= len(data):
        chunk_id, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        body = pos + 8
        if chunk_id == b"fmt ":
            channels, rate = struct.unpack("<HI", data[body + 2 : body + 8])
        elif chunk_id == b"data":
            pcm = data[body:]
            return Recording(pcm[: len(pcm) - len(pcm) % (2 * channels)], rate, channels)
        pos = body + size + (size & 1)
    return Recording(b"", rate, channels)
