"""The hostile files issue 12 names, each built in its own directory.

Groups: expensive or broken YAML, a config path that is not a file, and a
valid file whose key file, control socket, sounds, CA, wake-word models,
state directory, devices or broker are wrong. The groups the daemon used to
restart-loop on (run_anyway) also go through `speakerd run` when check-config
refuses them: run must refuse them too, with 78.
"""

from __future__ import annotations

import json
import os
import socket
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.abuse.base import World, fill, quoted, set_value, template

MB = 1024 * 1024

Build = Callable[[World, Path], Path]


@dataclass(frozen=True)
class Case:
    name: str
    group: str
    build: Build
    run_anyway: bool = False
    """Also `speakerd run` it when check-config refuses it (the cases that once looped)."""


def _write(case_dir: Path, text: str | bytes) -> Path:
    path = case_dir / "config.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
    return path


def documented(section: str, key: str, value: Callable[[Path], str]) -> Build:
    """The documented file with `section.key` set to value(case_dir) (YAML)."""

    def build(world: World, case_dir: Path) -> Path:
        text = set_value(fill(template(), world, case_dir), section, key, value(case_dir))
        return _write(case_dir, text)

    return build


def raw(text: str | bytes | Callable[[Path], str | bytes]) -> Build:
    def build(world: World, case_dir: Path) -> Path:
        return _write(case_dir, text(case_dir) if callable(text) else text)

    return build


def appended(extra: str) -> Build:
    """The documented file with `extra` added at its end."""

    def build(world: World, case_dir: Path) -> Path:
        return _write(case_dir, fill(template(), world, case_dir) + extra)

    return build


def billion_laughs(levels: int) -> str:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 9)}]")
    return "\n".join(lines) + "\n"


# -- things at a path: each returns the path (as YAML) after making it ------------------


def _file(name: str, data: bytes, mode: int = 0o640) -> Callable[[Path], str]:
    def make(case_dir: Path) -> str:
        path = case_dir / name
        path.write_bytes(data)
        path.chmod(mode)
        return quoted(str(path))

    return make


def _fifo(name: str) -> Callable[[Path], str]:
    def make(case_dir: Path) -> str:
        os.mkfifo(case_dir / name)
        return quoted(str(case_dir / name))

    return make


def _dir(name: str) -> Callable[[Path], str]:
    def make(case_dir: Path) -> str:
        (case_dir / name).mkdir()
        return quoted(str(case_dir / name))

    return make


def _dangling(name: str) -> Callable[[Path], str]:
    def make(case_dir: Path) -> str:
        (case_dir / name).symlink_to(case_dir / "nowhere")
        return quoted(str(case_dir / name))

    return make


def _loop(name: str) -> Callable[[Path], str]:
    def make(case_dir: Path) -> str:
        (case_dir / name).symlink_to(case_dir / f"{name}.b")
        (case_dir / f"{name}.b").symlink_to(case_dir / name)
        return quoted(str(case_dir / name))

    return make


def _missing(name: str) -> Callable[[Path], str]:
    return lambda case_dir: quoted(str(case_dir / name))


def _fixed(value: str) -> Callable[[Path], str]:
    return lambda case_dir: value


def _wav(name: str, frames: int, mode: int = 0o644) -> Callable[[Path], str]:
    def make(case_dir: Path) -> str:
        with wave.open(str(case_dir / name), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(16000)
            out.writeframes(b"\x00\x10" * frames)
        return quoted(str(case_dir / name))

    return make


def _stale_socket_at(name: str) -> Callable[[Path], str]:
    """A Unix socket file nobody listens on: what a SIGKILLed daemon leaves."""

    def make(case_dir: Path) -> str:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.bind(str(case_dir / name))
        return quoted(str(case_dir / name))

    return make


def _in_place(make: Callable[[Path], str]) -> Build:
    """The config path itself is the odd thing (the document's text does not matter)."""

    def build(world: World, case_dir: Path) -> Path:
        return Path(json.loads(make(case_dir)))

    return build


def _held_socket(world: World, case_dir: Path) -> Path:
    text = fill(template(), world, case_dir)
    path = case_dir / "ctl.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    sock.listen(8)
    world.held.append(sock)  # "another speakerd", answering there all campaign long
    return _write(case_dir, text)


def _stale_socket(world: World, case_dir: Path) -> Path:
    _stale_socket_at("ctl.sock")(case_dir)
    return _write(case_dir, fill(template(), world, case_dir))


def _canary_tag(case_dir: Path) -> str:
    return f"pwn: !!python/object/apply:os.system [\"touch {case_dir / 'pwned'}\"]\n"


def cases() -> list[Case]:
    """Every targeted case, in a fixed order (their index names their directory)."""
    long = "x" * 110
    yaml = [
        Case("alias bomb, 9 levels", "yaml", raw(billion_laughs(9))),
        Case("alias bomb, 4 levels", "yaml", raw(billion_laughs(4))),
        Case("self-referencing alias", "yaml", raw("top: &top\n  self: *top\n")),
        Case("merge key", "yaml", raw("base: &b {voice: Puck}\ngemini:\n  <<: *b\n")),
        Case("1 MB line (a value)", "yaml", documented("gemini", "system_instruction",
                                                       _fixed(quoted("a" * MB)))),
        Case("2 MB line (a value)", "yaml", raw("x: " + "a" * 2 * MB + "\n")),
        Case("4 MB line (a flow list)", "yaml", raw("x: [" + "1," * 2 * MB + "1]\n")),
        Case("1 MB line (a flow list)", "yaml", raw("x: [" + "1," * (MB // 2) + "1]\n")),
        Case("60 kB line of values", "yaml", raw("x: [" + "1," * 30_000 + "1]\n")),
        Case("200k unknown keys", "yaml", raw("gemini:\n" + "".join(
            f"  k{i}: 1\n" for i in range(200_000)))),
        Case("5000 unknown keys in 64 KiB", "yaml", raw("gemini:\n" + "".join(
            f"  k{i}: 1\n" for i in range(5000)))),
        Case("nesting 400 deep (flow)", "yaml", raw("gemini: " + "[" * 400 + "]" * 400 + "\n")),
        Case("nesting 100 deep (block)", "yaml", raw("".join(
            "  " * i + f"k{i}:\n" for i in range(100)))),
        Case("not UTF-8", "yaml", raw(b"gemini:\n  voice: Puck\n  model: \xff\xfe\n")),
        Case("NUL byte", "yaml", raw(b"gemini:\n  voice: Pu\x00ck\n")),
        Case("lone surrogate in model", "yaml", documented("gemini", "model",
                                                          _fixed('"\\ud800"'))),
        Case("lone surrogate in base_url", "yaml", documented("gemini", "base_url",
                                                             _fixed('"https://x/\\udfff"'))),
        Case("lone surrogate in control.socket", "yaml", documented(
            "control", "socket", lambda d: quoted(str(d / "s")).replace("/s\"", "/\\ud800\""))),
        Case("escape sequences in model", "yaml", documented(
            "gemini", "model", _fixed('"\\u202emodel\\x1b[2J"'))),
        Case("1 MB value with escapes", "yaml", documented(
            "gemini", "voice", _fixed('"\\x1b' + "B" * MB + '"'))),
        Case("40 kB value with escapes", "yaml", documented(  # under the 64 KiB cap
            "gemini", "voice", _fixed('"\\x1b[2J' + "B" * 40_000 + '"'))),
        Case("python object tag", "yaml", raw(_canary_tag)),
        Case("python object tag in the documented file", "yaml", lambda w, d: _write(
            d, fill(template(), w, d) + _canary_tag(d))),
        Case("empty file", "yaml", raw("")),
        Case("a list, not a mapping", "yaml", raw("- gemini\n- audio\n")),
        Case("two documents", "yaml", appended("---\ngemini: {voice: Puck}\n")),
        Case("CRLF line ends and a BOM", "yaml", lambda w, d: _write(
            d, "\ufeff" + fill(template(), w, d).replace("\n", "\r\n"))),
        Case("tabs for indentation", "yaml", raw("gemini:\n\tvoice: Puck\n")),
    ]
    path = [
        Case("config path: symlink loop", "path", _in_place(_loop("config.yaml"))),
        Case("config path: a socket", "path", _in_place(_stale_socket_at("config.yaml"))),
        Case("config path: a FIFO nobody writes", "path", _in_place(_fifo("config.yaml"))),
        Case("config path: a directory", "path", _in_place(_dir("config.yaml"))),
        Case("config path: missing", "path", _in_place(_missing("config.yaml"))),
        Case("config path: dangling symlink", "path", _in_place(_dangling("config.yaml"))),
        Case("config path: /dev/zero", "path", lambda w, d: Path("/dev/zero")),
        Case("config path: /dev/urandom", "path", lambda w, d: Path("/dev/urandom")),
        Case("config path: /proc/self/mem", "path", lambda w, d: Path("/proc/self/mem")),
    ]
    key = [
        ("not UTF-8", _file("key", b"\xff\xfe\x00binary")),
        ("/dev/zero", _fixed('"/dev/zero"')),
        ("/dev/urandom", _fixed('"/dev/urandom"')),
        ("a FIFO", _fifo("key")),
        ("a directory", _dir("key")),
        ("missing", _missing("key")),
        ("dangling symlink", _dangling("key")),
        ("symlink loop", _loop("key")),
        ("empty", _file("key", b"")),
        ("2 MB", _file("key", b"k" * 2 * MB)),
        ("an escape sequence in the key", _file("key", b"key\x1b[2J\n")),
        ("two words", _file("key", b"two words\n")),
        ("a lone surrogate in its path", _fixed('"/tmp/\\ud800"')),
        ("readable by every user", _file("key", b"abuse-file-key\n", 0o644)),
    ]
    sock = [
        ("a regular file", _file("ctl.sock", b"")),
        ("a directory", _dir("ctl.sock")),
        ("dangling symlink", _dangling("ctl.sock")),
        ("over 107 bytes", lambda d: quoted(str(d / long / "ctl.sock"))),
        ("a NUL in it", lambda d: quoted(str(d) + "/a\0b.sock")),
        ("its directory missing", _missing("absent/ctl.sock")),
        ("its parent a file", lambda d: _file("parent", b"")(d)[:-1] + '/ctl.sock"'),
        ("a relative path", _fixed('"ctl.sock"')),
    ]
    sounds = [
        ("missing", _missing("ding.wav")),
        ("a text file", _file("ding.wav", b"not audio\n")),
        ("/dev/zero", _fixed('"/dev/zero"')),
        ("/dev/urandom", _fixed('"/dev/urandom"')),
        ("a directory", _dir("ding.wav")),
        ("a FIFO", _fifo("ding.wav")),
        ("a WAV with no frames", _wav("ding.wav", 0)),
        ("a 20 MB WAV", _wav("ding.wav", 10 * MB)),
        ("a good WAV", _wav("ding.wav", 1600)),
    ]
    files = [
        *(Case(f"api_key_file: {name}", "key file", documented("gemini", "api_key_file", make),
               run_anyway=True) for name, make in key),
        *(Case(f"control.socket: {name}", "control socket",
               documented("control", "socket", make), run_anyway=True) for name, make in sock),
        Case("control.socket: another daemon's live socket", "control socket", _held_socket,
             run_anyway=True),
        Case("control.socket: a stale socket of a killed daemon", "control socket",
             _stale_socket, run_anyway=True),
        *(Case(f"audio.wake_sound: {name}", "sounds", documented("audio", "wake_sound", make),
               run_anyway=True) for name, make in sounds),
        Case("audio.error_sound: not a WAV", "sounds", documented(
            "audio", "error_sound", _file("buzz.wav", b"RIFF\x00\x00\x00\x00WAVEjunk")),
             run_anyway=True),
        Case("timers.sound: missing", "sounds", documented("timers", "sound",
                                                          _missing("alarm.wav")), run_anyway=True),
        Case("gemini.ca_file: not PEM", "files", documented(
            "gemini", "ca_file", _file("ca.pem", b"-----BEGIN CERTIFICATE-----\nx\n")),
             run_anyway=True),
        Case("gemini.ca_file: /dev/urandom", "files", documented(
            "gemini", "ca_file", _fixed('"/dev/urandom"')), run_anyway=True),
        Case("wake_word.models: a missing .onnx", "files", documented(
            "wake_word", "models", lambda d: f"[{quoted(str(d / 'mine.onnx'))}]"),
             run_anyway=True),
        Case("wake_word.models: a .onnx of random bytes", "files", documented(
            "wake_word", "models",
            lambda d: "[" + _file("mine.onnx", os.urandom(4096))(d) + "]"), run_anyway=True),
        Case("wake_word.models_dir: an empty directory", "files", documented(
            "wake_word", "models_dir", _dir("models")), run_anyway=True),
        Case("timers.state_dir: a regular file", "files", documented(
            "timers", "state_dir", _file("state", b"")), run_anyway=True),
        Case("timers.state_dir: /dev/null", "files", documented(
            "timers", "state_dir", _fixed('"/dev/null"')), run_anyway=True),
        Case("timers.state_dir: a timers file of garbage", "files", documented(
            "timers", "state_dir", _garbage_state), run_anyway=True),
        Case("audio.input_device: unplugged", "devices", documented(
            "audio", "input_device", _fixed('"usb_mic_unplugged"')), run_anyway=True),
        Case("audio.output_device: unplugged", "devices", documented(
            "audio", "output_device", _fixed('"usb_speaker_unplugged"')), run_anyway=True),
        Case("audio.input_device: index 99", "devices", documented(
            "audio", "input_device", _fixed("99")), run_anyway=True),
        Case("mqtt: on, no broker listening", "devices", documented(
            "mqtt", "enabled", _fixed("true")), run_anyway=True),
        Case("mqtt: password_file missing", "devices", lambda w, d: _write(d, set_value(
            set_value(set_value(fill(template(), w, d), "mqtt", "enabled", "true"),
                      "mqtt", "username", "u"), "mqtt", "password_file",
            quoted(str(d / "nopass")))), run_anyway=True),
    ]
    return yaml + path + files


def _garbage_state(case_dir: Path) -> str:
    """A state directory whose timers.json is not JSON (kept aside, then started empty)."""
    state = case_dir / "state"
    state.mkdir()
    (state / "timers.json").write_bytes(b"\xff{not json")
    return quoted(str(state))
