"""A second look at what fired the stop model: was it "stop", or "shop", "top", "step"?

The microWakeWord "Stop" model fires on those near misses said on their own
nearly as surely as on "stop" (bench/stop_word.md), at scores no threshold
separates. Their sounds do differ, and cheaply measurable ones are used here,
on the last ~1.2 s of audio when the model fires:

- "stop" starts with a long hiss whose energy lies above ~4.5 kHz (/s/,
  then the /t/ burst straight after); "shop" starts with /ʃ/, its energy
  lower (a smaller share above 4.5 kHz);
- "top" has only the short /t/ burst before the vowel, no long hiss; nor,
  mostly, has "spot": its /p/ closure splits the hiss and its burst is dull;
- "step" has the vowel /ɛ/, whose second formant (~1800 Hz) gives far more
  energy at 1.4-2.4 kHz than /ɑ/'s (~1100 Hz) does.

"stomp" is not told apart (its /m/ did not show reliably; see
bench/stop_word.md). Every vowel in the audio is tried and one "stop"-like
syllable is enough, so "stop it" and "please stop" still pass. A stationary noise floor (its per-frequency
20th percentile over the window) is subtracted first. numpy only, run only
when the model has fired. Thresholds were set on some bench voices and
checked on others (bench/figures/stop_check.py, bench/stop_word.md).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

RATE = 16000
FRAME = 320
"""20 ms analysis frames..."""
HOP = 160
"""...every 10 ms."""
NFFT = 512
WINDOW_SECONDS = 1.2
"""How much audio before the model fired is looked at."""
_FREQS = np.fft.rfftfreq(NFFT, 1 / RATE)
_HANN = np.hanning(FRAME)

HISS_FRAMES = 30
"""Frames before a vowel searched for its hiss (300 ms)."""
MIN_HISS_FRAMES = 9
"""The hiss before a "stop" vowel (/s/, closure, /t/ burst) lasts 90 ms or more; /t/ alone less."""
MIN_HIGH_SHARE_DB = -1.8
"""The hiss's energy above 4.5 kHz over that at 1.5-4.5 kHz: /s/ above, /ʃ/ below (a
voice whose /s/ is dull, like flite's awb, is turned away too)."""
MAX_F2_SHARE_DB = -8.0
"""The vowel's energy at 1.4-2.4 kHz over that at 0.6-1.4 kHz: /ɑ/ below, /ɛ/ above."""


@dataclass(frozen=True)
class Syllable:
    """What was measured before and at the start of one vowel."""

    hiss_frames: int
    """Hissing (high-frequency) frames in the 300 ms before the vowel."""
    high_share_db: float
    """Their energy above 4.5 kHz over that at 1.5-4.5 kHz (dB)."""
    centroid_hz: float
    """Their spectral centroid above 1 kHz (measured, not judged: flite's voices overlap)."""
    f2_share_db: float
    """The vowel's first 100 ms: energy at 1.4-2.4 kHz over that at 0.6-1.4 kHz (dB)."""

    @property
    def stop_like(self) -> bool:
        sibilant = self.high_share_db >= MIN_HIGH_SHARE_DB
        return self.hiss_frames >= MIN_HISS_FRAMES and sibilant and self.f2_share_db <= MAX_F2_SHARE_DB


def _db(x: np.ndarray | float) -> np.ndarray:
    return 10 * np.log10(np.asarray(x, dtype=np.float64) + 1e-12)


def _band(power: np.ndarray, low: float, high: float) -> np.ndarray:
    chosen = (low <= _FREQS) & (high > _FREQS)
    return np.asarray(power[..., chosen].sum(axis=-1))


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True))


def _bridged(mask: np.ndarray, gap: int = 2) -> np.ndarray:
    """`mask` with its gaps of up to `gap` frames filled (the closure inside /st/)."""
    out = mask.copy()
    runs = _runs(mask)
    for (_a, end), (start, _b) in itertools.pairwise(runs):
        if start - end <= gap:
            out[end:start] = True
    return out


def power_frames(audio: np.ndarray) -> np.ndarray:
    """Power spectra of 20 ms Hann frames every 10 ms (frames x 257 bins)."""
    x = np.asarray(audio, dtype=np.float64) / 32768.0
    if len(x) < FRAME:
        x = np.pad(x, (0, FRAME - len(x)))
    count = 1 + (len(x) - FRAME) // HOP
    index = np.arange(FRAME)[None, :] + HOP * np.arange(count)[:, None]
    return np.asarray(np.abs(np.fft.rfft(x[index] * _HANN, NFFT)) ** 2)


def syllables(audio: np.ndarray) -> list[Syllable]:
    """One Syllable per vowel (voiced run of 50 ms or more) in the int16 `audio`, oldest first."""
    raw = power_frames(audio)
    noise = np.percentile(raw, 20, axis=0)
    power = np.maximum(raw - noise, 0.0)
    top = float(_db(power.sum(axis=1)).max())
    low, high = _db(_band(power, 100, 1000)), _db(_band(power, 3500, 8000))
    low_floor = max(float(_db(_band(noise, 100, 1000))), top - 75)
    high_floor = max(float(_db(_band(noise, 3500, 8000))), top - 75)
    voiced = (low > low_floor + 12) & (low > low.max() - 25) & (low > high)
    vowels = [run for run in _runs(voiced) if run[1] - run[0] >= 5]
    hissing = (high > high_floor + 6) & (high > top - 65) & (high > low - 6)
    found = []
    previous_end = 0
    for start, end in vowels:
        before = np.zeros_like(hissing)
        first = max(previous_end, start - HISS_FRAMES)
        before[first:start] = hissing[first:start]
        previous_end = end
        runs = _runs(_bridged(before))
        count = max((b - a for a, b in runs), default=0)
        if count:
            spectrum = power[before].sum(axis=0)
            above = _FREQS >= 1000
            centroid = float((spectrum[above] * _FREQS[above]).sum() / max(spectrum[above].sum(), 1e-12))
            share = float(_db(_band(spectrum, 4500, 8000)) - _db(_band(spectrum, 1500, 4500)))
        else:
            centroid, share = 0.0, -60.0
        vowel = power[start : min(end, start + 10)].sum(axis=0)
        f2 = float(_db(_band(vowel, 1400, 2400)) - _db(_band(vowel, 600, 1400)))
        found.append(Syllable(count, share, centroid, f2))
    return found


def sounds_like_stop(audio: np.ndarray) -> bool:
    """Whether some vowel in `audio` (int16, 16 kHz, the model's window and a little more)
    is preceded by a long /s/ and is the /ɑ/ of "stop"; without any vowel, True
    (the check is for rejecting the near misses it recognizes, not for second-guessing)."""
    found = syllables(audio)
    return not found or any(s.stop_like for s in found)
