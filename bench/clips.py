"""The audio the bench plays into the microphone: espeak-ng speech, noise and silence.

Every clip is synthesized at run time (tests/support/speech.py), 16 kHz mono
int16, so the bench needs no recordings and anyone can regenerate it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tests.support.speech import RATE, concat, silence, speech_bounds, synthesize

WAKE_PHRASE = "hey jarvis"
COMMAND = "turn on the lamp in the living room please"
ROOM_SENTENCES = (
    "the weather today is mild with a light breeze from the west",
    "we should buy some bread and milk on the way home",
    "the meeting was moved to thursday afternoon at three",
    "could you pass me the salt and the pepper",
)
FOLLOW_UPS = (
    "and what about the kitchen",
    "how warm will it be tomorrow",
    "what can you see on the table",
    "tell me something short",
)
NOISE_RMS = 300.0  # about -40 dBFS: a fan or a fridge in the room


@dataclass(frozen=True)
class WakeClip:
    samples: np.ndarray
    wake_end: int
    """Sample index just after the last audible sample of the wake phrase."""
    command_end: int
    """Sample index just after the last audible sample of the command."""

    @property
    def seconds(self) -> float:
        return len(self.samples) / RATE


def wake_clip(lead_seconds: float = 0.5, tail_seconds: float = 1.2) -> WakeClip:
    """The wake phrase, then the command with no pause (how people talk to speakers)."""
    wake = synthesize(WAKE_PHRASE)
    command = synthesize(COMMAND)
    lead = silence(lead_seconds)
    samples = concat(lead, wake, command, silence(tail_seconds))
    wake_end = len(lead) + speech_bounds(wake)[1]
    command_end = len(lead) + len(wake) + speech_bounds(command)[1]
    return WakeClip(samples, wake_end, command_end)


def noise(seconds: float, rms: float = NOISE_RMS, seed: int = 7) -> np.ndarray:
    values = np.random.default_rng(seed).normal(0.0, rms, round(seconds * RATE))
    return np.clip(np.round(values), -32768, 32767).astype(np.int16)


def room_sound(seconds: float) -> np.ndarray:
    """Speech without the wake word, noise and silence in equal thirds, in 5 s turns."""
    parts: list[np.ndarray] = []
    total = round(seconds * RATE)
    sentence = 0
    kind = 0
    while sum(len(p) for p in parts) < total:
        if kind % 3 == 0:
            block = synthesize(ROOM_SENTENCES[sentence % len(ROOM_SENTENCES)])
            sentence += 1
            block = concat(block, silence(max(0.0, 5.0 - len(block) / RATE)))
        elif kind % 3 == 1:
            block = noise(5.0, seed=kind)
        else:
            block = silence(5.0)
        parts.append(block)
        kind += 1
    return concat(*parts)[:total]


def quiet_room_sound(seconds: float, speech_share: float = 0.3) -> np.ndarray:
    """A home most of the day: a sentence now and then, silence or a fan the rest.

    Each sentence is followed by quiet lasting (1 - share) / share times as long,
    alternately digital silence and steady noise, so `speech_share` of the clip is
    speech turns and the rest is silence or steady noise.
    """
    parts: list[np.ndarray] = []
    total = round(seconds * RATE)
    index = 0
    while sum(len(p) for p in parts) < total:
        sentence = synthesize(ROOM_SENTENCES[index % len(ROOM_SENTENCES)])
        quiet = len(sentence) / RATE * (1 - speech_share) / speech_share
        parts += [sentence, noise(quiet, seed=100 + index) if index % 2 else silence(quiet)]
        index += 1
    return concat(*parts)[:total]


def conversation_clip(seconds: float, every: float = 7.0) -> tuple[np.ndarray, WakeClip]:
    """The wake clip, then a follow-up question every `every` seconds, quiet between."""
    start = wake_clip(tail_seconds=0.0)
    parts = [start.samples]
    length = len(start.samples)
    index = 0
    while length < round(seconds * RATE):
        gap = silence(max(0.0, every - (length / RATE) % every))
        question = synthesize(FOLLOW_UPS[index % len(FOLLOW_UPS)])
        index += 1
        parts += [gap, question]
        length += len(gap) + len(question)
    samples = concat(*parts, silence(1.0))
    return samples, start
