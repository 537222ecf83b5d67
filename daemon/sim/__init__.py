"""Simulated sound hardware for `speakerd demo`, tests and benchmarks.

File-backed ALSA devices (fast, for logic) and a private PulseAudio server
(real time, for timing); both leave PyAudio, PortAudio and ALSA real.
"""

from daemon.sim.alsa_files import FileBackedAlsa, Recording, SimMicrophone, SimSpeaker
from daemon.sim.pulse import PulseAudioError, PulseAudioHarness

__all__ = [
    "FileBackedAlsa",
    "PulseAudioError",
    "PulseAudioHarness",
    "Recording",
    "SimMicrophone",
    "SimSpeaker",
]
