"""Microphone and speaker over PyAudio (PortAudio, ALSA), with asyncio faces.

from hardware.audio import Microphone, Speaker
"""

from hardware.audio.convert import StreamFormat
from hardware.audio.echo_canceller import EchoCanceller, EchoCancellerUnavailable
from hardware.audio.host import (
    DeviceInfo,
    DeviceNotFound,
    default_device_index,
    find_device,
    list_devices,
    pyaudio_instance,
)
from hardware.audio.microphone import Microphone, MicrophoneStopped
from hardware.audio.sounds import BUILT_IN as BUILT_IN_SOUNDS
from hardware.audio.speaker import Speaker, volume_gain
from hardware.audio.status import AudioStatus
from hardware.audio.wav import WavError, read_wav, read_wav_as, write_wav

__all__ = [
    "BUILT_IN_SOUNDS",
    "AudioStatus",
    "DeviceInfo",
    "DeviceNotFound",
    "EchoCanceller",
    "EchoCancellerUnavailable",
    "Microphone",
    "MicrophoneStopped",
    "Speaker",
    "StreamFormat",
    "WavError",
    "default_device_index",
    "find_device",
    "list_devices",
    "pyaudio_instance",
    "read_wav",
    "read_wav_as",
    "volume_gain",
    "write_wav",
]
