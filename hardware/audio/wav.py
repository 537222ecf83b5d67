"""WAV files in and out: any PCM rate/width/channels in, mono at the rate we need out."""

from __future__ import annotations

import struct
import wave
from pathlib import Path

import numpy as np

from hardware.audio.convert import float_to_int16, resample


class WavError(ValueError):
    """A file that is not a PCM WAV we can read."""


def read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """A WAV file as mono float32 samples in [-1, 1) and its sample rate."""
    try:
        with wave.open(str(path), "rb") as wav:
            width, channels, rate = wav.getsampwidth(), wav.getnchannels(), wav.getframerate()
            raw = wav.readframes(wav.getnframes())
    except FileNotFoundError:
        raise WavError(f"{path}: no such file") from None
    except (wave.Error, EOFError) as exc:
        raise WavError(f"{path}: not a PCM WAV file ({exc})") from None
    if width == 1:
        samples = (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width == 2:
        samples = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    elif width == 3:
        bytes3 = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        value = bytes3[:, 0] | (bytes3[:, 1] << 8) | (bytes3[:, 2] << 16)
        value = np.where(value >= 1 << 23, value - (1 << 24), value)
        samples = value.astype(np.float32) / float(1 << 23)
    elif width == 4:
        samples = np.frombuffer(raw, dtype="<i4").astype(np.float32) / float(1 << 31)
    else:
        raise WavError(f"{path}: unsupported sample width of {width} bytes")
    if channels > 1:
        samples = samples[: len(samples) - len(samples) % channels]
        samples = samples.reshape(-1, channels).mean(axis=1)
    return samples.astype(np.float32), rate


def read_wav_as(path: str | Path, rate: int = 16000) -> bytes:
    """A WAV file as 16-bit mono PCM bytes at `rate` (what the microphone path carries)."""
    samples, file_rate = read_wav(path)
    return float_to_int16(resample(samples, file_rate, rate)).tobytes()


def write_wav(path: str | Path, pcm: bytes, rate: int, channels: int = 1) -> None:
    """Write 16-bit PCM bytes as a WAV file."""
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm)


def pcm_from_wav_bytes(wav: bytes) -> tuple[bytes, int]:
    """16-bit PCM payload and rate of a WAV in memory, also one streamed through a pipe
    (espeak-ng --stdout), whose size fields are bogus."""
    if wav[:4] != b"RIFF" or wav[8:12] != b"WAVE":
        raise ValueError("not a WAV file")
    pos, rate = 12, 22050
    while pos + 8 <= len(wav):
        chunk_id, size = wav[pos : pos + 4], struct.unpack("<I", wav[pos + 4 : pos + 8])[0]
        body = pos + 8
        if chunk_id == b"fmt ":
            rate = struct.unpack("<I", wav[body + 4 : body + 8])[0]
        elif chunk_id == b"data":
            data = wav[body:] if size >= len(wav) - body else wav[body : body + size]
            return data[: len(data) // 2 * 2], rate
        pos = body + size + (size & 1)
    raise ValueError("WAV file without data chunk")
