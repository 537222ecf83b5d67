"""The files a config points at, checked before anything starts.

`speakerd check-config` must refuse whatever `speakerd run` would trip over, or
the owner learns about it from a restart loop: a key file that is not text, a
sound that is not a WAV, something other than a socket at the socket path.
Problems are errors (exit 78); warnings are things that may be fine on the
device but deserve a look (a key file others can read).
"""

from __future__ import annotations

import os
import ssl
import stat
import wave
from pathlib import Path

from daemon.config.reading import ReadError, read_small_file
from daemon.config.schema import BUILT_IN_SOUNDS, Config
from daemon.config.secrets import ApiKeyError, read_key_file

Loc = tuple[str | int, ...]

MAX_CA_FILE = 1024 * 1024
MAX_SOUND_FILE = 16 * 1024 * 1024
# systemd makes this directory at each start (RuntimeDirectory=speakerd) and
# removes it at each stop: its absence outside the service is normal.
RUNTIME_DIRECTORY = Path("/run/speakerd")


def file_problems(config: Config) -> list[tuple[Loc, str]]:
    """Every referenced file that `speakerd run` could not use."""
    found: list[tuple[Loc, str]] = []
    gemini = config.gemini
    if gemini.api_key_file is not None:
        problem = key_file_problem(gemini.api_key_file)
        if problem:
            found.append((("gemini", "api_key_file"), problem))
    if gemini.ca_file is not None:
        problem = ca_file_problem(gemini.ca_file)
        if problem:
            found.append((("gemini", "ca_file"), problem))
    sounds = {("audio", "wake_sound"): config.audio.wake_sound,
              ("audio", "error_sound"): config.audio.error_sound,
              ("timers", "sound"): config.timers.sound}  # fmt: skip
    for loc, sound in sounds.items():
        if sound is not None and sound not in BUILT_IN_SOUNDS:
            problem = sound_problem(Path(sound))
            if problem:
                found.append((loc, problem))
    problem = socket_path_problem(config.control.socket)
    if problem:
        found.append((("control", "socket"), problem))
    problem = state_dir_problem(config.timers.state_dir)
    if problem:
        found.append((("timers", "state_dir"), problem))
    if config.memory.enabled and config.memory.state_dir is not None:
        problem = state_dir_problem(config.memory.state_dir)
        if problem:
            found.append((("memory", "state_dir"), problem))
    if config.media.library is not None:
        problem = library_problem(config.media.library)
        if problem:
            found.append((("media", "library"), problem))
    return found


def library_problem(path: Path) -> str | None:
    """Why the music folder cannot be searched, or None."""
    try:
        if not path.exists():
            return f"the folder {path} does not exist"
        if not path.is_dir():
            return f"{path} is not a folder; media.library names the folder of your music"
        if not os.access(path, os.R_OK | os.X_OK):
            return f"the folder {path} cannot be read"
    except OSError as exc:
        return f"cannot use {path}: {exc.strerror or exc}"
    return None


def ca_file_problem(path: Path) -> str | None:
    """Why `path` is no PEM certificate the TLS client can trust (what run would refuse)."""
    try:
        data = read_small_file(path, MAX_CA_FILE, "certificate file")
    except ReadError as exc:
        return f"{path} {'does not exist' if exc.missing else exc.message}"
    try:
        ssl.create_default_context().load_verify_locations(cadata=data.decode("ascii"))
    except (UnicodeDecodeError, ssl.SSLError, ValueError):
        return f"{path} is not a PEM certificate (-----BEGIN CERTIFICATE----- ...)"
    return None


def key_file_problem(path: Path) -> str | None:
    """Why the key file cannot give a key; None when it can (or only its reader could tell)."""
    try:
        read_key_file(path)
    except ApiKeyError as exc:
        # check-config may run as another user than the service: see file_warnings.
        return None if exc.permission_denied else str(exc).removeprefix("the API key ")
    return None


def sound_problem(path: Path) -> str | None:
    """Why `path` cannot be played as a sound; only the header is read."""
    try:
        kind = None if path.is_file() else "missing"
        if kind == "missing":
            return f"{path} does not exist (or is not a file); use chime, buzz, a WAV path or null"
        if path.stat().st_size > MAX_SOUND_FILE:
            return f"{path} is over {MAX_SOUND_FILE // (1024 * 1024)} MB; a sound should be short"
        with wave.open(str(path), "rb") as wav:
            width, frames = wav.getsampwidth(), wav.getnframes()
    except (wave.Error, EOFError) as exc:
        return f"{path} is not a PCM WAV file" + (f" ({exc})" if str(exc) else "")
    except OSError as exc:
        return f"{path} cannot be read ({exc.strerror or exc})"
    except (ValueError, UnicodeError) as exc:
        return f"{path} cannot be read ({exc})"
    if width not in (1, 2, 3, 4):
        return f"{path} has {width}-byte samples; use 8, 16, 24 or 32-bit PCM"
    if frames == 0:
        return f"{path} holds no audio"
    return None


def socket_path_problem(path: Path) -> str | None:
    """Why no control socket can be made at `path` (a live daemon's socket is fine)."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        info = None
    except OSError as exc:
        return f"{path} cannot be checked ({exc.strerror or exc})"
    if info is not None:
        if stat.S_ISLNK(info.st_mode):
            return f"{path} is a symbolic link; give the socket's own path"
        if not stat.S_ISSOCK(info.st_mode):
            what = "a directory" if stat.S_ISDIR(info.st_mode) else "a file that is not a socket"
            return f"{path} is {what}; remove it or choose another control.socket"
        return None
    parent = path.parent
    if parent.is_dir() or parent == RUNTIME_DIRECTORY:
        return None
    if parent.exists():
        return f"{parent} is not a directory, so {path.name} cannot be made in it"
    return f"the directory {parent} does not exist; create it or choose another control.socket"


def state_dir_problem(path: Path) -> str | None:
    """Why timers could not be kept under `path` (one that does not exist yet is made)."""
    for place in (path, *path.parents):
        try:
            info = place.stat()
        except (FileNotFoundError, NotADirectoryError):
            continue  # the first place that exists says why
        except OSError as exc:
            return f"{place} cannot be checked ({exc.strerror or exc})"
        if stat.S_ISDIR(info.st_mode):
            return None
        if place == path:
            return f"{path} is not a directory; timers are kept in a directory"
        return f"{place} is not a directory, so {path} cannot be made"
    return None


def file_warnings(config: Config) -> list[str]:
    """Things that may work but deserve the owner's eye (printed by check-config and run)."""
    warnings: list[str] = []
    key_file = config.gemini.api_key_file
    if key_file is not None:
        try:
            mode = key_file.stat().st_mode
        except OSError:
            mode = 0
        if mode & stat.S_IROTH:
            warnings.append(
                f"gemini.api_key_file {key_file} can be read by every user (mode "
                f"{stat.S_IMODE(mode):04o}); make it owned by root, group speakerd, mode 0640"
            )
        elif mode and not os.access(key_file, os.R_OK):
            warnings.append(
                f"gemini.api_key_file {key_file} cannot be read by this user; the service "
                "reads it as user speakerd (owner root, group speakerd, mode 0640)"
            )
    socket = config.control.socket
    if not socket.parent.exists() and socket.parent == RUNTIME_DIRECTORY:
        warnings.append(
            f"{RUNTIME_DIRECTORY} does not exist: systemd makes it when the service starts; "
            "a `speakerd run` outside the service needs another control.socket"
        )
    return warnings
