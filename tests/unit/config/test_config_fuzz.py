"""Fuzz `speakerd check-config`: whatever the file holds, exit 0 or 78 with a line.

Random bytes, random YAML-ish documents and mutations of the documented
config file (with the hostile pieces the campaign of issue 12 used: aliases,
merge keys, deep nesting, control characters, surrogate escapes, long lines)
go through the same entry point the owner types. The properties: exit 0 or
78, never a traceback; a refusal names the file on its first line; the output
is escaped and bounded; the memory the check takes is bounded (tracemalloc).
"""

from __future__ import annotations

import contextlib
import io
import json
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daemon.cli import main
from daemon.config.loader import MAX_PROBLEMS
from tests.unit.fuzzing import fuzz

REPO = Path(__file__).resolve().parents[3]
VALID = (REPO / "config" / "speakerd.yaml").read_text()
PEAK_BYTES = 64 * 1024 * 1024  # the whole check, parser and validation included
LONGEST_LINE = 2000

HOSTILE = [
    "&a ", "*a", "<<: *a", "<<: {voice: Puck}", "[" * 200, "{" * 50, "? [x, y]\n: 1\n",
    "\t", "\x00", "\x1b[2J", "\u202e", '"\\ud800"', '"\\udfff\\x00"', "!!binary AAAA",
    "!!python/object/apply:os.system ['true']", "---\n", "...\n", "%YAML 1.1\n", "%TAG ! x\n",
    "- ", ": ", "#", "'", '"', "|\n", ">-\n", "~", "0x1F", "1e999", "-.inf", ".nan",
    "2001-12-14t21:59:43.10-05:00", "9" * 5000, "a" * 20_000, "x: [" + "1," * 3000 + "1]",
    "/dev/zero", "/dev/urandom", "/proc/self/fd/0", "/nonexistent/dir/s.sock", "/" + "d" * 200,
]  # fmt: skip


def check_config(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str, int]:
    """Exit code, stdout, stderr and the peak traced memory of one check-config."""
    monkeypatch.setenv("GEMINI_API_KEY", "k")
    out, err = io.StringIO(), io.StringIO()
    tracemalloc.start()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["check-config", str(path)])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return code, out.getvalue(), err.getvalue(), peak


def assert_clear_answer(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err, peak = check_config(path, monkeypatch)
    assert code in (0, 78), (code, err[-2000:])
    assert "Traceback" not in out + err
    if code == 78:
        first = err.splitlines()[0]
        assert first.startswith(f"{path}"), first
    else:
        assert out.startswith(f"{path}: OK")
    lines = (out + err).splitlines()
    assert len(lines) <= MAX_PROBLEMS + 20
    assert max(map(len, lines), default=0) <= LONGEST_LINE
    assert not any(c in out + err for c in "\x00\x1b\u202e\r")
    assert peak < PEAK_BYTES, f"peak {peak / 1e6:.0f} MB"


@fuzz
@given(data=st.binary(max_size=4096))
def test_fuzz_random_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    path = tmp_path / "config.yaml"
    path.write_bytes(data)
    assert_clear_answer(path, monkeypatch)


SECTIONS = ["gemini", "wake_word", "audio", "camera", "button", "leds", "relays",
            "conversation", "control", "bogus"]  # fmt: skip
KEYS = ["model", "voice", "api_key_file", "base_url", "ca_file", "models", "threshold",
        "thresholds", "wake_sound", "error_sound", "input_device", "pin", "pins", "kind",
        "socket", "name", "states", "resolution", "fps", "compression", "x"]  # fmt: skip
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | st.sampled_from([*HOSTILE[-8:], "chime", "Puck", "hey_jarvis", "rgb"])
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)


@fuzz
@given(document=st.dictionaries(st.sampled_from(SECTIONS), values, max_size=5))
def test_fuzz_random_documents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, document: dict
) -> None:
    """JSON is YAML: random values (surrogates and control characters included) at real keys."""
    path = tmp_path / "config.yaml"
    path.write_text(json.dumps(document), encoding="utf-8", errors="surrogatepass")
    assert_clear_answer(path, monkeypatch)


def mutate(text: str, edits: list[tuple[int, int, int, str]]) -> str:
    lines = text.splitlines(keepends=True)
    for kind, where, count, piece in edits:
        if not lines:
            lines = [piece]
            continue
        i = where % len(lines)
        line = lines[i]
        col = count % (len(line) + 1)
        if kind == 0:  # insert a piece inside a line
            lines[i] = line[:col] + piece + line[col:]
        elif kind == 1:  # delete part of a line
            lines[i] = line[:col] + line[col + 1 + count % 7 :]
        elif kind == 2:  # repeat a line
            lines[i : i + 1] = [line] * (1 + count % 3000)
        elif kind == 3:  # drop a line
            del lines[i]
        elif kind == 4:  # re-indent a line
            lines[i] = " " * (count % 9) + line.lstrip(" ")
        else:  # replace a line's value
            key = line.split(":", 1)[0]
            lines[i] = f"{key}: {piece}\n"
    return "".join(lines)


edit = st.tuples(
    st.integers(0, 5),
    st.integers(0, 10_000),
    st.integers(0, 10_000),
    st.sampled_from(HOSTILE) | st.text(max_size=20),
)


@fuzz
@given(edits=st.lists(edit, min_size=1, max_size=6))
def test_fuzz_mutated_valid_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edits: list[tuple[int, int, int, str]]
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(mutate(VALID, edits), encoding="utf-8", errors="surrogatepass")
    assert_clear_answer(path, monkeypatch)


def test_the_unmutated_file_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fuzzers start from a file that is valid, or they only ever test refusals."""
    path = tmp_path / "config.yaml"
    path.write_text(VALID)
    code, out, _, _ = check_config(path, monkeypatch)
    assert code == 0 and out.startswith(f"{path}: OK")
