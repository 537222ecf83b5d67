"""Speech helpers for tests: the simulation's espeak-ng synthesis (daemon.sim.speech)."""

from daemon.sim.speech import (
    RATE,
    SpeechError,
    concat,
    mix_noise,
    silence,
    speech_bounds,
    synthesize,
    to_int16,
    write_wav,
)

__all__ = [
    "RATE",
    "SpeechError",
    "concat",
    "mix_noise",
    "silence",
    "speech_bounds",
    "synthesize",
    "to_int16",
    "write_wav",
]
