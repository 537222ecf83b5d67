"""The one PortAudio instance, quiet, and the devices it sees.

PortAudio probes every ALSA PCM and the JACK server when it starts; on a
headless Pi that prints dozens of scary lines to stderr ("Unknown PCM
cards.pcm.rear", "jack server is not running") that are not errors for us.
We route ALSA's and JACK's messages into our log at debug level instead, and
our own code logs the failures that matter.

PortAudio's device list is fixed when it initialises, so a USB microphone that
was unplugged at start-up only appears after a re-scan, which is only safe
while no stream is open (`rescan`).

To list devices PortAudio opens every PCM the ALSA configuration defines, and
ALSA keeps every plugin library that took in memory, with its parsed
configuration, until told to let go: on a machine with libasound2-plugins the
a52 plugin alone brings FFmpeg's libavcodec (~11 MB resident). Nothing here
needs them again (a stream opens its own PCM, which loads what it uses), so
after each scan, while no stream is open, ALSA is told to drop them
(`_release_alsa_probe`), as PortAudio's own shutdown does.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import threading
from dataclasses import dataclass
from typing import Any, Literal

import pyaudio

log = logging.getLogger(__name__)

Direction = Literal["input", "output"]
DeviceSpec = int | str | None

_lock = threading.RLock()
_instance: pyaudio.PyAudio | None = None
_open_streams = 0
_keepalive: list[Any] = []  # ctypes callbacks must outlive the C libraries' use of them
_asound: ctypes.CDLL | None = None  # libasound, once _install_quiet_handlers has found it


class DeviceNotFound(LookupError):
    """The configured device is not among those PortAudio sees."""


@dataclass(frozen=True)
class DeviceInfo:
    """One PortAudio device, as `speakerd devices` shows it."""

    index: int
    """PortAudio index (changes when devices come and go; names are steadier)."""
    name: str
    """Device name, e.g. an ALSA PCM name or "USB PnP Sound Device: Audio (hw:1,0)"."""
    max_input_channels: int
    """Capture channels; 0 for playback-only devices."""
    max_output_channels: int
    """Playback channels; 0 for capture-only devices."""
    default_rate: int
    """The rate PortAudio suggests for this device."""
    input_latency: float
    """PortAudio's default low input latency in seconds."""
    output_latency: float
    """PortAudio's default low output latency in seconds."""

    def channels(self, direction: Direction) -> int:
        return self.max_input_channels if direction == "input" else self.max_output_channels


def _install_quiet_handlers() -> None:
    """Send ALSA and JACK library chatter to our debug log (once per process)."""
    global _asound
    if _keepalive:
        return
    os.environ.setdefault("JACK_NO_START_SERVER", "1")  # never spawn jackd just to probe it
    alsa_log = logging.getLogger(__name__ + ".alsa")
    name = ctypes.util.find_library("asound") or "libasound.so.2"
    try:
        asound = _asound = ctypes.CDLL(name)
        handler_type = ctypes.CFUNCTYPE(
            None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p
        )

        def on_alsa_error(file: bytes, line: int, function: bytes, err: int, fmt: bytes) -> None:
            # The message arguments are C varargs we cannot read; the format string,
            # place and errno are enough to tell what ALSA was unhappy about.
            alsa_log.debug(
                "ALSA %s:%d %s: %s%s",
                (file or b"?").decode(errors="replace"),
                line,
                (function or b"?").decode(errors="replace"),
                (fmt or b"").decode(errors="replace"),
                f" ({os.strerror(err)})" if err else "",
            )

        handler = handler_type(on_alsa_error)
        asound.snd_lib_error_set_handler(handler)
        _keepalive.append(handler)
    except (OSError, AttributeError) as exc:
        log.debug("ALSA error handler not installed: %s", exc)
    jack_name = ctypes.util.find_library("jack") or "libjack.so.0"
    try:
        jack = ctypes.CDLL(jack_name)
        msg_type = ctypes.CFUNCTYPE(None, ctypes.c_char_p)
        jack_log = logging.getLogger(__name__ + ".jack")

        def on_jack_message(message: bytes) -> None:
            jack_log.debug("JACK: %s", (message or b"").decode(errors="replace"))

        jack_handler = msg_type(on_jack_message)
        jack.jack_set_error_function(jack_handler)
        jack.jack_set_info_function(jack_handler)
        _keepalive.append(jack_handler)
    except (OSError, AttributeError):
        _keepalive.append(None)  # no JACK library: PortAudio has no JACK host to probe


def pyaudio_instance() -> pyaudio.PyAudio:
    """The process-wide PyAudio, created (quietly) on first use."""
    global _instance
    with _lock:
        if _instance is None:
            _install_quiet_handlers()
            _instance = pyaudio.PyAudio()
            log.debug("PortAudio %s initialised", pyaudio.get_portaudio_version_text())
            _release_alsa_probe()
        return _instance


def scan_early() -> None:
    """Initialise PortAudio now, before the rest of start-up grows the process.

    The scan briefly holds every ALSA plugin it opened (+19 MB here, 11 of which
    `_release_alsa_probe` gives back at once); done first, that brief bulge sits
    below the memory the wake-word models take later instead of on top of it.
    A failure is only logged: the device threads report and retry as before.
    """
    try:
        pyaudio_instance()
    except Exception as exc:  # PortAudio raises OSError or its own types
        log.debug("PortAudio not initialised early: %s", exc)


def rescan() -> bool:
    """Re-read the device list (a device was plugged in); only while no stream is open."""
    global _instance
    with _lock:
        if _instance is None:
            pyaudio_instance()
            return True
        if _open_streams:
            return False
        _instance.terminate()
        _instance = pyaudio.PyAudio()
        log.debug("PortAudio device list re-read")
        _release_alsa_probe()
        return True


def _release_alsa_probe() -> None:
    """Unload the ALSA plugins and configuration that PortAudio's device scan loaded.

    snd_config_update_free_global() frees ALSA's global configuration and closes
    the plugin libraries no open PCM uses (what Pa_Terminate does); the next
    snd_pcm_open reads the configuration again. Called with _lock held and no
    stream open, so no other thread is inside ALSA. Measured: -11 MB resident
    on this build machine (libasound2-plugins' a52 plugin and FFmpeg).
    """
    if _open_streams or _asound is None:
        return
    try:
        _asound.snd_config_update_free_global()
    except AttributeError as exc:  # an ALSA without it: keep the memory, lose nothing else
        log.debug("ALSA configuration not released: %s", exc)


def open_stream(**kwargs: Any) -> pyaudio.Stream:
    """pyaudio.PyAudio.open, counted so that `rescan` knows when it is safe."""
    global _open_streams
    with _lock:
        stream = pyaudio_instance().open(**kwargs)
        _open_streams += 1
        return stream


def close_stream(stream: pyaudio.Stream) -> None:
    """Close a stream from `open_stream`; errors of a vanished device are only logged."""
    global _open_streams
    with _lock:
        try:
            stream.close()
        except (OSError, ValueError) as exc:
            log.debug("closing stream: %s", exc)
        _open_streams = max(0, _open_streams - 1)


def list_devices() -> list[DeviceInfo]:
    """Every device PortAudio sees, inputs and outputs together."""
    with _lock:
        pa = pyaudio_instance()
        devices = []
        for index in range(pa.get_device_count()):
            info = pa.get_device_info_by_index(index)
            devices.append(
                DeviceInfo(
                    index=index,
                    name=str(info["name"]),
                    max_input_channels=int(info["maxInputChannels"]),
                    max_output_channels=int(info["maxOutputChannels"]),
                    default_rate=int(info["defaultSampleRate"]),
                    input_latency=float(info["defaultLowInputLatency"]),
                    output_latency=float(info["defaultLowOutputLatency"]),
                )
            )
        return devices


def default_device_index(direction: Direction) -> int | None:
    """The system default input or output device, None when there is none."""
    with _lock:
        pa = pyaudio_instance()
        try:
            if direction == "input":
                return int(pa.get_default_input_device_info()["index"])
            return int(pa.get_default_output_device_info()["index"])
        except OSError:
            return None


def find_device(spec: DeviceSpec, direction: Direction) -> DeviceInfo:
    """The device `spec` names: an index, a case-insensitive name substring, or None (default).

    Among several name matches an exact name wins, then the first listed.
    Raises DeviceNotFound naming what was asked and what exists.
    """
    devices = [d for d in list_devices() if d.channels(direction) > 0]
    kind = "microphone" if direction == "input" else "speaker"
    if spec is None:
        index = default_device_index(direction)
        for device in devices:
            if device.index == index:
                return device
        raise DeviceNotFound(f"no default {kind} device; {_available(devices, direction)}")
    if isinstance(spec, int):
        for device in devices:
            if device.index == spec:
                return device
        raise DeviceNotFound(
            f"no {kind} device with index {spec}; {_available(devices, direction)}"
        )
    wanted = spec.casefold()
    exact = [d for d in devices if d.name.casefold() == wanted]
    partial = [d for d in devices if wanted in d.name.casefold()]
    if exact or partial:
        return (exact or partial)[0]
    raise DeviceNotFound(f"no {kind} device matching {spec!r}; {_available(devices, direction)}")


def _available(devices: list[DeviceInfo], direction: Direction) -> str:
    if not devices:
        return f"PortAudio sees no {direction} devices at all"
    names = ", ".join(f"[{d.index}] {d.name}" for d in devices)
    return f"{direction} devices: {names}"


def supports(device: DeviceInfo, direction: Direction, rate: int, channels: int) -> bool:
    """Whether the device opens as 16-bit PCM at this rate and channel count."""
    if channels > device.channels(direction):
        return False
    with _lock:
        pa = pyaudio_instance()
        kwargs: dict[str, Any] = {"rate": rate}
        if direction == "input":
            kwargs.update(
                input_device=device.index, input_channels=channels, input_format=pyaudio.paInt16
            )
        else:
            kwargs.update(
                output_device=device.index, output_channels=channels, output_format=pyaudio.paInt16
            )
        try:
            return bool(pa.is_format_supported(**kwargs))
        except ValueError:
            return False
