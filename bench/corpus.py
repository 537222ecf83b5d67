"""Synthetic speech corpora for detector figures: many voices, noise, babble, hours of talk.

Speech comes from espeak-ng (daemon.sim.speech, the same synthesis the tests
and the demo use) and from Debian's flite (its kal16, awb, rms and slt voices,
which sound nothing like espeak's), at several speeds. Everything is 16 kHz
mono int16. Rendered clips are cached as .npy files under
$SPEAKERD_BENCH_CACHE (default ~/.cache/speakerd-bench), keyed by engine,
voice, speed and text, so a second run synthesizes nothing; nothing here is
ever written into the repository.

    voices = all_voices()
    clip = say("stop", voices[0])
    noisy = mix(clip, pink_noise(len(clip), seed=1), snr_db=5)
    talk = ordinary_speech(3600, seed=0)       # an hour of sentences, with near misses
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import soxr

from daemon.sim.speech import RATE, SpeechError, synthesize, to_int16
from hardware.audio.wav import pcm_from_wav_bytes

CACHE_ENV = "SPEAKERD_BENCH_CACHE"

ESPEAK_VOICES = (
    "en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-029",
    "en-us+f2", "en+f3", "en+m3", "en-gb-x-gbcwmd+f4",
)  # fmt: skip
ESPEAK_SPEEDS = (130, 160, 190)
FLITE_VOICES = ("kal16", "awb", "rms", "slt")
FLITE_STRETCHES = (0.9, 1.15)
"""flite's duration_stretch: below 1 faster, above 1 slower."""


@dataclass(frozen=True)
class Voice:
    engine: str
    """espeak-ng or flite."""
    name: str
    speed: float
    """espeak-ng: words per minute; flite: duration stretch."""

    @property
    def label(self) -> str:
        return f"{self.engine}:{self.name}@{self.speed:g}"


def all_voices() -> list[Voice]:
    """Every voice and speed the figures use (flite's only where flite is installed)."""
    voices = [Voice("espeak-ng", v, s) for v in ESPEAK_VOICES for s in ESPEAK_SPEEDS]
    if shutil.which("flite"):
        voices += [Voice("flite", v, s) for v in FLITE_VOICES for s in FLITE_STRETCHES]
    return voices


def cache_dir() -> Path:
    path = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "speakerd-bench")
    path.mkdir(parents=True, exist_ok=True)
    return path


def say(text: str, voice: Voice) -> np.ndarray:
    """`text` in `voice`, cached on disk; 16 kHz int16."""
    key = hashlib.sha256(f"{voice.label}|{text}".encode()).hexdigest()[:24]
    path = cache_dir() / f"{key}.npy"
    if path.is_file():
        return np.load(path)
    if voice.engine == "espeak-ng":
        audio = np.asarray(synthesize(text, voice=voice.name, speed=int(voice.speed)))
    else:
        audio = _flite(text, voice.name, voice.speed)
    partial = path.with_suffix(f".{os.getpid()}.npy")
    np.save(partial, audio)
    os.replace(partial, path)
    return audio


def _flite(text: str, voice: str, stretch: float) -> np.ndarray:
    flite = shutil.which("flite")
    if flite is None:
        raise SpeechError("flite is not installed (apt install flite)")
    with tempfile.TemporaryDirectory(prefix="speakerd-flite-") as workdir:
        out = Path(workdir) / "out.wav"
        done = subprocess.run(
            [flite, "-voice", voice, "--setf", f"duration_stretch={stretch}", "-t", text,
             "-o", str(out)],
            capture_output=True, check=False,
        )
        if done.returncode != 0 or not out.is_file():
            raise SpeechError(f"flite failed for voice {voice!r}: {done.stderr.decode().strip()}")
        pcm, rate = pcm_from_wav_bytes(out.read_bytes())
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
    if rate != RATE:
        samples = soxr.resample(samples, rate, RATE, quality="HQ")
    return to_int16(samples)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(round(seconds * RATE), dtype=np.int16)


def active_power(signal: np.ndarray) -> float:
    """Mean power over samples above -50 dBFS (padding silence does not count)."""
    x = np.asarray(signal, dtype=np.float64)
    active = x[np.abs(x) > 32768 * 10 ** (-50 / 20)]
    return float(np.mean(active**2)) if active.size else 1.0


def pink_noise(n: int, seed: int) -> np.ndarray:
    """Unit-power 1/f noise (float64), made by shaping white noise's spectrum."""
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.normal(0.0, 1.0, n))
    freqs = np.fft.rfftfreq(n, 1 / RATE)
    spectrum[1:] /= np.sqrt(freqs[1:])
    spectrum[0] = 0
    noise = np.fft.irfft(spectrum, n)
    return noise / np.sqrt(np.mean(noise**2))


BABBLE_SENTENCES = (
    "so I told him we would come back on sunday if the weather holds",
    "the children were playing in the garden all afternoon",
    "she said the train was late again this morning",
    "we need to call the plumber about the kitchen sink",
    "I have not seen that film but everyone says it is good",
    "the market closes early on wednesdays in winter",
    "he was reading the paper when the phone rang",
    "they painted the fence green last summer",
)


def babble(n: int, seed: int, talkers: int = 4) -> np.ndarray:
    """Unit-power speech babble: `talkers` voices saying different sentences at once."""
    rng = random.Random(seed)
    voices = [v for v in all_voices() if v.engine == "espeak-ng"]
    total = np.zeros(n, dtype=np.float64)
    for _ in range(talkers):
        voice = rng.choice(voices)
        stream: list[np.ndarray] = []
        length = 0
        while length < n:
            part = say(rng.choice(BABBLE_SENTENCES), voice).astype(np.float64)
            part /= np.sqrt(active_power(part))
            stream += [part, np.zeros(round(rng.uniform(0.05, 0.3) * RATE))]
            length += len(stream[-2]) + len(stream[-1])
        joined = np.concatenate(stream)
        start = rng.randrange(0, max(1, len(joined) - n))
        total += joined[start : start + n] if len(joined) >= n + start else np.resize(joined, n)
    return total / np.sqrt(np.mean(total**2))


def mix(signal: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """`signal` plus unit-power `noise` scaled to `snr_db` below the signal's active power."""
    power = active_power(signal)
    scaled = noise[: len(signal)] * np.sqrt(power / 10 ** (snr_db / 10))
    return to_int16((np.asarray(signal, np.float64) + scaled) / 32767.0)


CONDITIONS = ("clean", "pink 10 dB", "pink 5 dB", "babble 10 dB", "babble 5 dB")


def in_condition(clip: np.ndarray, condition: str, seed: int) -> np.ndarray:
    """The clip in one of CONDITIONS (noise over its whole length, padding included)."""
    if condition == "clean":
        return clip
    kind, snr, _db = condition.split()
    noise = pink_noise(len(clip), seed) if kind == "pink" else babble(len(clip), seed)
    return mix(clip, noise, float(snr))


def padded(phrase: np.ndarray, lead: float = 1.5, tail: float = 1.5) -> tuple[np.ndarray, float, float]:
    """The phrase between silences, and where it starts and ends (seconds)."""
    audio = np.concatenate([silence(lead), phrase, silence(tail)])
    return audio, lead, lead + len(phrase) / RATE


# Ordinary talk: sentences built from templates, so an hour holds few repeats.
_SUBJECTS = ("I", "we", "my sister", "the neighbours", "our teacher", "the doctor", "my friend",
             "the kids", "your uncle", "the driver", "everyone at work", "the old man")
_VERBS = ("bought", "found", "forgot", "fixed", "painted", "cleaned", "cooked", "sold",
          "borrowed", "carried", "ordered", "dropped", "washed", "moved")
_OBJECTS = ("the blue chair", "a loaf of bread", "the garden gate", "some fresh fish",
            "the broken radio", "a pair of boots", "the kitchen table", "two tickets",
            "the heavy box", "a birthday cake", "the old bicycle", "a box of apples")
_TIMES = ("this morning", "last night", "on monday", "after lunch", "before the rain",
          "at the weekend", "yesterday evening", "in the summer", "right after work")
_EXTRAS = (
    "and then we went for a walk by the river",
    "because the shops were closed early",
    "while the radio was playing in the kitchen",
    "but nobody noticed until much later",
    "so we had to wait for another hour",
    "and it turned out to be a lovely day",
    "although it was raining quite hard",
    "which made everyone laugh at dinner",
)
NEAR_MISSES = {
    "stop": (
        "we stopped by the shop on the corner to buy milk",
        "put it on top of the shelf next to the books",
        "watch your step on the wet stairs",
        "the kids like to stomp in the puddles",
        "I found a nice spot for the picnic",
        "the shop was out of apples again",
        "they sat at the top of the hill",
        "take one step to the left please",
        "there is a spot of paint on your sleeve",
        "a bus stopped outside the post office",
        "the clock on top of the tower is slow",
        "he went to the shop to get some stamps",
    ),
    "hey_jarvis": (
        "hey jarvik are you coming to the party",
        "my dog is a jarvis cocker spaniel",
        "hey darling can you pass the salt",
        "harvey is coming over for dinner tonight",
        "hey travis did you bring the keys",
        "the service was great said mister jarvis",
        "hey garvin where did you park the car",
        "they named the boat jarvis after her grandfather",
    ),
}


def sentence(rng: random.Random) -> str:
    text = f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} {rng.choice(_TIMES)}"
    if rng.random() < 0.5:
        text += " " + rng.choice(_EXTRAS)
    return text


@lru_cache(maxsize=4)
def ordinary_speech(seconds: float, seed: int = 0, near_miss_share: float = 0.15) -> np.ndarray:
    """About `seconds` of talk: template sentences in every voice with short pauses,
    `near_miss_share` of them sentences with words close to the wake and stop words.
    Read-only; no noise (the figures add it)."""
    rng = random.Random(seed)
    voices = all_voices()
    near = [s for group in NEAR_MISSES.values() for s in group]
    plan: list[tuple[str, Voice, float]] = []
    estimate = 0.0
    while estimate < seconds * 1.1:  # ~2.6 s a sentence; cut to length below
        text = rng.choice(near) if rng.random() < near_miss_share else sentence(rng)
        plan.append((text, rng.choice(voices), rng.uniform(0.3, 1.2)))
        estimate += 2.6 + plan[-1][2]
    _prepare_jobs([(text, voice) for text, voice, _pause in plan])
    parts: list[np.ndarray] = []
    length = 0
    for text, voice, pause in plan:
        if length >= seconds * RATE:
            break
        parts += [say(text, voice), silence(pause)]
        length += len(parts[-2]) + len(parts[-1])
    while length < seconds * RATE:  # the estimate fell short: go round again
        parts += parts[: 2 * len(plan)]
        length = sum(len(p) for p in parts)
    audio = np.concatenate(parts)[: round(seconds * RATE)]
    audio.flags.writeable = False
    return audio


def noisy_talk(seconds: float, seed: int = 0) -> np.ndarray:
    """ordinary_speech() with noise that changes every minute: pink at 20 and 10 dB, babble at 10 dB."""
    talk = ordinary_speech(seconds, seed)
    out = np.empty_like(talk)
    minute = 60 * RATE
    for index, start in enumerate(range(0, len(talk), minute)):
        part = talk[start : start + minute]
        kind = index % 3
        noise = babble(len(part), seed + index) if kind == 2 else pink_noise(len(part), seed + index)
        out[start : start + len(part)] = mix(part, noise, (20.0, 10.0, 10.0)[kind])
    return out


def speex(audio: np.ndarray) -> np.ndarray:
    """`audio` through a fresh speex noise suppressor (-30 dB, no gain control), 10 ms at a
    time; it learns the noise from what comes first. Needs pyspeex-noise (a bench tool only)."""
    from pyspeex_noise import AudioProcessor

    processor = AudioProcessor(auto_gain=0, noise_suppression=-30)
    data = np.asarray(audio, "<i2").tobytes()
    step = 320
    out = b"".join(processor.process_10ms(data[i : i + step])
                   for i in range(0, len(data) - step + 1, step))
    return np.frombuffer(out, "<i2")


def talk_noise_label() -> str:
    return "noise changing every minute: pink 20 dB, pink 10 dB, babble 10 dB"


def prepare(texts: list[str], voices: list[Voice]) -> None:
    """Render every (text, voice) into the cache, two processes at a time."""
    _prepare_jobs([(t, v) for t in texts for v in voices])


def _prepare_jobs(jobs: list[tuple[str, Voice]]) -> None:
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=2) as pool:
        list(pool.map(_render, jobs, chunksize=16))


def _render(job: tuple[str, Voice]) -> None:
    say(*job)
