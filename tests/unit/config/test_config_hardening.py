"""Hostile or broken config files: every one refused with a line, quickly, never a traceback.

Each case is one the fuzzing campaign of issue 12 found: before, each cost
minutes and gigabytes, crashed with a traceback, or passed check-config and
then sent `speakerd run` into a systemd restart loop.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import wave
from pathlib import Path

import pytest

from daemon.config import Config, ConfigError, load_config, resolve_api_key
from daemon.config.files import file_warnings
from daemon.config.loader import MAX_PROBLEMS
from daemon.config.reading import MAX_BYTES, MAX_DEPTH, MAX_NODES
from daemon.config.secrets import ApiKeyError

REPO = Path(__file__).resolve().parents[3]


def check_config(path: Path | str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "daemon", "check-config", str(path)],
        capture_output=True, text=True, cwd=REPO, timeout=60,
        env={**os.environ, "GEMINI_API_KEY": "k", **env},
    )  # fmt: skip


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return [str(p) for p in caught.value.problems]


def write(tmp_path: Path, text: str, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    return path


def billion_laughs(levels: int) -> str:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        refs = ", ".join([f"*l{i - 1}"] * 9)
        lines.append(f"l{i}: &l{i} [{refs}]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (billion_laughs(9), 2, "aliases"),
        ("top: &top\n  self: *top\n", 2, "aliases"),
        ("base: {a: 1}\ngemini:\n  <<: {voice: Puck}\n", 3, "merge keys"),
        ("gemini: " + "[" * 400 + "]" * 400 + "\n", 1, f"more than {MAX_DEPTH} levels"),
        ("".join("  " * i + f"k{i}:\n" for i in range(100)), MAX_DEPTH, "levels deep"),
        ("x: [" + "1," * 20_000 + "1]\n", 1, f"more than {MAX_NODES} values"),
    ],
    ids=["billion laughs", "self-referencing alias", "merge key", "nested 400 deep",
         "block nesting", "one long line of values"],
)  # fmt: skip
def test_expensive_yaml_is_refused_at_its_line(
    tmp_path: Path, text: str, line: int, words: str
) -> None:
    path = write(tmp_path, text)
    found = problems_of(path)
    assert len(found) == 1
    assert found[0].startswith(f"{path}:{line}: ") and words in found[0], found


def test_a_file_over_the_size_cap_is_refused_unread(tmp_path: Path) -> None:
    path = write(tmp_path, "gemini:\n  system_instruction: " + "a" * MAX_BYTES + "\n")
    assert problems_of(path) == [f"{path}: is {path.stat().st_size} bytes; "
                                 f"a YAML file may have at most {MAX_BYTES}"]  # fmt: skip


def test_thousands_of_unknown_keys_print_a_bounded_list(tmp_path: Path) -> None:
    path = write(tmp_path, "gemini:\n" + "".join(f"  k{i}: 1\n" for i in range(500)))
    result = check_config(path)
    lines = result.stderr.splitlines()
    assert result.returncode == 78
    assert len(lines) == MAX_PROBLEMS + 2  # the first ones, "... and N more", the count
    assert "and 480 more problems" in lines[-2]
    assert lines[-1] == f"{path}: 500 problems; nothing was started"


@pytest.mark.parametrize("kind", ["symlink loop", "socket", "fifo", "/dev/zero", "/dev/urandom"])
def test_paths_that_are_not_files_are_refused(tmp_path: Path, kind: str) -> None:
    path: Path | str
    if kind == "symlink loop":
        path = tmp_path / "a.yaml"
        path.symlink_to(tmp_path / "b.yaml")
        (tmp_path / "b.yaml").symlink_to(path)
        words = "loop of symbolic links"
    elif kind == "socket":
        path = tmp_path / "s.yaml"
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(str(path))
        words = "is a socket"
    elif kind == "fifo":
        path = tmp_path / "f.yaml"
        os.mkfifo(path)  # nobody ever writes: opening it blocking would hang
        words = "is a FIFO"
    else:
        path, words = kind, "is a device"
    result = check_config(path)
    assert result.returncode == 78, result.stderr
    assert result.stderr.startswith(f"{path}: ") and words in result.stderr
    assert "Traceback" not in result.stderr


def test_a_key_file_that_is_not_text_is_refused_before_ok(tmp_path: Path) -> None:
    key = tmp_path / "key"
    key.write_bytes(b"\xff\xfe\x00binary")
    path = write(tmp_path, f"gemini:\n  api_key_file: {key}\n")
    result = check_config(path)
    assert result.returncode == 78 and "OK" not in result.stdout
    assert f"{path}:2: gemini.api_key_file: file {key} is not UTF-8 text" in result.stderr
    gemini = Config.model_validate({"gemini": {"api_key_file": str(key)}}).gemini
    with pytest.raises(ApiKeyError, match="not UTF-8"):
        resolve_api_key(gemini)  # what `speakerd run` does: exit 78, not a traceback


@pytest.mark.parametrize("content", [b"two words\n", b"key\x1b[2J\n", b"cl\xc3\xa9\n", b"  \n"])
def test_a_key_file_that_holds_no_usable_key_is_refused(tmp_path: Path, content: bytes) -> None:
    key = tmp_path / "key"
    key.write_bytes(content)
    path = write(tmp_path, f"gemini:\n  api_key_file: {key}\n")
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}:2: gemini.api_key_file: ")
    assert content.decode().strip() not in problem or not content.strip()  # never the key


def test_the_key_file_must_not_be_readable_by_others(tmp_path: Path) -> None:
    key = tmp_path / "key"
    key.write_text("AIzaSy-secret\n")
    key.chmod(0o644)
    path = write(tmp_path, f"gemini:\n  api_key_file: {key}\n")
    result = check_config(path)
    assert result.returncode == 0
    assert "can be read by every user (mode 0644)" in result.stderr
    assert "owned by root, group speakerd, mode 0640" in result.stderr
    key.chmod(0o640)
    assert not [w for w in file_warnings(load_config(path)) if "api_key_file" in w]
    assert "every user" not in check_config(path).stderr


@pytest.mark.parametrize("key", ["model", "base_url", "system_instruction"])
def test_lone_surrogates_are_refused_with_their_key(tmp_path: Path, key: str) -> None:
    path = write(tmp_path, f'gemini:\n  {key}: "https://x/\\ud800"\n')
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}:2: gemini.{key}: ") and "surrogate" in problem


def test_values_are_echoed_escaped_and_bounded(tmp_path: Path) -> None:
    path = write(tmp_path, 'gemini:\n  model: "\\u202emodel\\x1b[2J"\n')
    result = check_config(path)
    assert result.returncode == 0
    assert "\x1b" not in result.stdout and "\u202e" not in result.stdout
    assert "model \\u202emodel\\x1b[2J " in result.stdout  # escaped, then "(Live 3.8)"
    path = write(tmp_path, 'gemini:\n  voice: "\\x1b' + "B" * 200_000 + '"\n')
    result = check_config(path)
    assert result.returncode == 78
    assert "\x1b" not in result.stderr and max(map(len, result.stderr.splitlines())) < 1500


def _wav(path: Path) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\x00\x01" * 1600)
    return path


def test_sounds_must_be_wav_files_that_exist(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not audio")
    path = write(
        tmp_path,
        f"audio:\n  wake_sound: {tmp_path / 'missing.wav'}\n  error_sound: {text}\n",
    )
    found = problems_of(path)
    assert found[0].startswith(f"{path}:2: audio.wake_sound: ") and "does not exist" in found[0]
    assert found[1].startswith(f"{path}:3: audio.error_sound: ") and "not a PCM WAV" in found[1]
    good = write(tmp_path, f"audio:\n  wake_sound: {_wav(tmp_path / 'ding.wav')}\n", "good.yaml")
    assert load_config(good).audio.wake_sound == str(tmp_path / "ding.wav")


@pytest.mark.parametrize("kind", ["file", "directory", "dangling symlink", "too long", "NUL",
                                  "missing directory", "relative"])  # fmt: skip
def test_a_control_socket_path_run_could_not_use_is_refused(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "ctl.sock"
    value = str(target)
    if kind == "file":
        target.write_text("")
    elif kind == "directory":
        target.mkdir()
    elif kind == "dangling symlink":
        target.symlink_to(tmp_path / "nowhere")
    elif kind == "too long":
        value = str(tmp_path / ("d" * 120) / "ctl.sock")
    elif kind == "NUL":
        value = str(tmp_path) + "/a\\0b"
    elif kind == "relative":
        value = "ctl.sock"
    else:
        value = str(tmp_path / "absent" / "ctl.sock")
    path = write(tmp_path, f'control:\n  socket: "{value}"\n')
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}:2: control.socket: "), problem


def test_check_config_refuses_a_relative_control_socket(tmp_path: Path) -> None:
    path = write(tmp_path, "control:\n  socket: ctl.sock\n")
    result = check_config(path)
    assert result.returncode == 78, result.stderr
    assert f"{path}:2: control.socket: " in result.stderr, result.stderr
    assert "must be absolute" in result.stderr, result.stderr


@pytest.mark.parametrize("kind", ["a file", "/dev/null", "under a file"])
def test_a_timers_directory_run_could_not_use_is_refused(tmp_path: Path, kind: str) -> None:
    (tmp_path / "plain").write_text("")
    value = {"a file": tmp_path / "plain", "/dev/null": Path("/dev/null"),
             "under a file": tmp_path / "plain" / "timers"}[kind]  # fmt: skip
    path = write(tmp_path, f"timers:\n  state_dir: {value}\n")
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}:2: timers.state_dir: "), problem
    assert "not a directory" in problem
    made_later = write(tmp_path, f"timers:\n  state_dir: {tmp_path / 'new' / 'timers'}\n", "ok.yaml")
    assert load_config(made_later).timers.state_dir == tmp_path / "new" / "timers"


@pytest.mark.parametrize("content", ["random bytes", "not a wake-word model"])
def test_a_wake_word_model_run_could_not_load_is_refused(tmp_path: Path, content: str) -> None:
    model = tmp_path / "mine.onnx"
    if content == "random bytes":
        model.write_bytes(os.urandom(4096))
    else:
        model.write_bytes((REPO / "models" / "melspectrogram.onnx").read_bytes())
    path = write(tmp_path, f'wake_word:\n  models: ["{model}"]\ncontrol:\n  socket: {tmp_path}/s.sock\n')
    result = check_config(path)
    assert result.returncode == 78, result.stdout
    assert f"wake-word model {model}" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_live_daemons_socket_and_the_runtime_directory_are_fine(tmp_path: Path) -> None:
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(tmp_path / "ctl.sock"))
    path = write(tmp_path, f"control:\n  socket: {tmp_path / 'ctl.sock'}\n")
    assert load_config(path).control.socket == tmp_path / "ctl.sock"
    listener.close()
    if not Path("/run/speakerd").exists():  # made by systemd when the service starts
        config = load_config(write(tmp_path, "{}\n", "default.yaml"))
        assert any("/run/speakerd does not exist" in w for w in file_warnings(config))


def test_a_non_utf8_config_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_bytes(b"gemini:\n  voice: Puck\n  model: \xff\n")
    assert problems_of(path) == [f"{path}:3: is not UTF-8 text (byte 0xff)"]


def test_a_readable_key_file_mode_is_what_the_docs_say(tmp_path: Path) -> None:
    """The default file's advice must be one the service can follow."""
    text = (REPO / "config" / "speakerd.yaml").read_text()
    assert "only root can read" not in text
    assert "group speakerd" in text and "0640" in text


def test_a_ca_file_that_is_not_a_pem_certificate_is_refused(tmp_path: Path) -> None:
    """`speakerd run` refuses it (exit 78) when it builds the TLS client: say so first."""
    not_pem = tmp_path / "ca.pem"
    not_pem.write_text("-----BEGIN CERTIFICATE-----\nnonsense\n-----END CERTIFICATE-----\n")
    path = write(tmp_path, f"gemini:\n  ca_file: {not_pem}\n")
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}:2: gemini.ca_file: ") and "not a PEM certificate" in problem


@pytest.mark.parametrize(
    ("text", "line", "key", "tag"),
    [
        ("audio:\n  volume: !!int fifty\n", 2, "audio.volume", "!!int"),
        ("audio:\n  volume: !!int 50\n", 2, "audio.volume", "!!int"),
        ("gemini:\n  voice: !!python/object:os.system x\n", 2, "gemini.voice", "!!python/object:os.system"),
        ("audio: !!map\n  volume: 50\n", 1, "audio", "!!map"),
        ("audio:\n  volume: !custom 50\n", 2, "audio.volume", "!custom"),
    ],
)  # fmt: skip
def test_yaml_tags_are_refused_with_the_line_and_the_key(
    tmp_path: Path, text: str, line: int, key: str, tag: str
) -> None:
    path = write(tmp_path, text)
    result = check_config(path)
    assert result.returncode == 78, result.stderr
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"{path}:{line}: {key}: YAML tags ({tag})"), first
    assert "ValueError" not in result.stderr and "Traceback" not in result.stderr
