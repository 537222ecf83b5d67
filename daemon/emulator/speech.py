"""The emulated model's voice: espeak-ng when installed, else a tone of the same length.

Output is what the service sends: 16-bit little-endian mono PCM at 24 kHz.
"""

from __future__ import annotations

import asyncio
import logging
import shutil

import numpy as np

from hardware.audio.wav import pcm_from_wav_bytes

log = logging.getLogger(__name__)

OUTPUT_RATE = 24000
OUTPUT_MIME = "audio/pcm;rate=24000"
SECONDS_PER_CHAR = 0.06
_CACHE_LIMIT = 64
_cache: dict[tuple[str, str], bytes] = {}


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


def tone(seconds: float, rate: int = OUTPUT_RATE, freq: float = 330.0) -> bytes:
    """A soft tone with short fades, so it sounds like 'something is talking'."""
    n = max(1, int(seconds * rate))
    t = np.arange(n) / rate
    wave = 0.25 * np.sin(2 * np.pi * freq * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
    fade = min(n // 2, int(0.02 * rate))
    if fade:
        ramp = np.linspace(0.0, 1.0, fade)
        wave[:fade] *= ramp
        wave[-fade:] *= ramp[::-1]
    return (wave * 32767).astype("<i2").tobytes()


def tone_for(text: str) -> bytes:
    return tone(max(0.4, len(text) * SECONDS_PER_CHAR))


def resample(pcm: bytes, rate_in: int, rate_out: int = OUTPUT_RATE) -> bytes:
    if rate_in == rate_out:
        return pcm
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
    try:
        import soxr

        out = soxr.resample(samples, rate_in, rate_out)
    except ImportError:  # numpy fallback: linear interpolation
        n_out = int(len(samples) * rate_out / rate_in)
        out = np.interp(np.linspace(0, len(samples) - 1, n_out), np.arange(len(samples)), samples)
    return bytes((np.clip(out, -1.0, 1.0) * 32767).astype("<i2").tobytes())


async def _espeak(text: str) -> bytes:
    process = await asyncio.create_subprocess_exec(
        "espeak-ng", "--stdout", "-v", "en-us", "-s", "165", "--", text,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    wav, err = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"espeak-ng failed: {err.decode(errors='replace').strip()}")
    pcm, rate = pcm_from_wav_bytes(wav)
    return resample(pcm, rate)


async def synthesize(text: str, mode: str = "auto") -> bytes:
    """Speech for `text` as 24 kHz s16le. mode: "auto", "espeak" or "tone"."""
    if mode not in ("auto", "espeak", "tone"):
        raise ValueError(f"speech mode must be auto, espeak or tone, not {mode!r}")
    key = (mode, text)
    if key in _cache:
        return _cache[key]
    if mode == "tone" or (mode == "auto" and not espeak_available()) or not text.strip():
        pcm = tone_for(text)
    else:
        try:
            pcm = await _espeak(text)
        except (OSError, RuntimeError, ValueError) as error:
            if mode == "espeak":
                raise
            log.warning("espeak-ng unusable (%s); speaking a tone instead", error)
            pcm = tone_for(text)
    if len(_cache) >= _CACHE_LIMIT:
        _cache.pop(next(iter(_cache)))
    _cache[key] = pcm
    return pcm
