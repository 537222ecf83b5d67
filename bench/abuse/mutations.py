"""Seeded mutations of the documented config: what a slip of the hand or a hostile hand makes.

Each mutated file is the documented file (with its placeholders, see base.py)
after one to four edits drawn from a random.Random(seed): a hostile piece put
inside a line, a value replaced, characters deleted, a line repeated up to
3000 times, dropped, re-indented or swapped with another, a commented-out
example switched on, the file cut short, or one byte flipped. The edits are a
pure function of the seed and the documented file, so a rerun makes the same
files.
"""

from __future__ import annotations

import random

HOSTILE = [
    "&a ", "*a", "<<: *a", "<<: {voice: Puck}", "[" * 200, "{" * 50, "? [x, y]\n: 1\n",
    "\t", "\x00", "\x1b[2J", "\u202e", '"\\ud800"', '"\\udfff\\x00"', "!!binary AAAA",
    "!!python/object/apply:os.system ['true']", "!!set {a, b}", "!!omap [a: 1]", "---\n",
    "...\n", "%YAML 1.1\n", "%TAG ! x\n", "- ", ": ", "#", "'", '"', "|\n", ">-\n", "~",
    "0x1F", "0o777", "1e999", "-1", "-.inf", ".nan", "1_000", "yes", "on", "2001-12-14t21:59:43",
    "9" * 5000, "a" * 20_000, "x: [" + "1," * 3000 + "1]", "/dev/zero", "/dev/urandom",
    "/proc/self/mem", "/nonexistent/dir/s.sock", "/" + "d" * 200, "../../../etc/shadow",
]  # fmt: skip
"""Pieces put inside a line (the fuzz tests' list, and a few more)."""

VALUES = [
    "null", "true", "false", "0", "-1", "1", "2", "17", "27", "99", "100", "101", "0.0",
    "1e309", "-.inf", ".nan", "[]", "{}", "''", '""', "[1, 2]", "{a: 1}", '"mic"',
    '"speaker"', '"hey_jarvis"', '"alexa"', '"Puck"', '"chime"', '"buzz"', '"alarm"',
    '"rgb"', '"none"', '"auto"', '"on"', '"off"', '"/dev/null"', '"/dev/zero"', '"/"',
    '"/etc/passwd"', '"relative/path"', '"gemini-2.5-flash-native-audio-preview-12-2025"',
    '"x" ', '"\\u202e"', '"\\x1b[31m"', '"' + "v" * 5000 + '"', "&anchor 1", "*anchor",
    "!!str 5", "!!int x", "!!float y", "2001-12-14", "0x10", "0b101", "+12", "1:30",
]  # fmt: skip
"""Whole values put after a key: plausible, wrong, hostile."""


def mutate(text: str, rng: random.Random) -> bytes:
    """One mutated file: 1-4 edits of `text`, as bytes (a flipped byte may not be UTF-8)."""
    lines = text.splitlines(keepends=True)
    for _ in range(rng.randint(1, 4)):
        lines = _edit(lines, rng)
    data = "".join(lines).encode("utf-8", "surrogatepass")
    kind = rng.random()
    if kind < 0.04 and data:  # cut short
        data = data[: rng.randrange(len(data))]
    elif kind < 0.08 and data:  # one byte flipped
        where = rng.randrange(len(data))
        data = data[:where] + bytes([data[where] ^ (1 << rng.randrange(8))]) + data[where + 1:]
    return data


def _edit(lines: list[str], rng: random.Random) -> list[str]:
    if not lines:
        return [rng.choice(HOSTILE)]
    lines = list(lines)
    i = rng.randrange(len(lines))
    line = lines[i]
    col = rng.randrange(len(line) + 1)
    kind = rng.choices(
        ["insert", "value", "delete", "repeat", "drop", "indent", "swap", "uncomment"],
        weights=[4, 6, 2, 1, 2, 1, 1, 2],
    )[0]
    if kind == "insert":
        lines[i] = line[:col] + rng.choice(HOSTILE) + line[col:]
    elif kind == "value":
        i = _a_key_line(lines, rng)
        key = lines[i].split(":", 1)[0]
        lines[i] = f"{key}: {rng.choice(VALUES)}\n"
    elif kind == "delete":
        lines[i] = line[:col] + line[col + 1 + rng.randrange(7):]
    elif kind == "repeat":
        lines[i:i + 1] = [line] * (1 + rng.randrange(3000))
    elif kind == "drop":
        del lines[i]
    elif kind == "indent":
        lines[i] = " " * rng.randrange(9) + line.lstrip(" ")
    elif kind == "swap":
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    else:
        commented = [n for n, text in enumerate(lines) if text.lstrip().startswith("# ")
                     and ":" in text and text.startswith("  ")]
        if commented:
            n = rng.choice(commented)
            lines[n] = lines[n].replace("# ", "", 1)
    return lines


def _a_key_line(lines: list[str], rng: random.Random) -> int:
    """A line that sets a key (most of the time one with a value of its own)."""
    keyed = [n for n, text in enumerate(lines) if ":" in text and not text.lstrip().startswith("#")]
    return rng.choice(keyed) if keyed else rng.randrange(len(lines))


def mutated_files(text: str, count: int, seed: int) -> list[bytes]:
    """`count` mutations of `text`, the same for the same seed."""
    rng = random.Random(seed)
    return [mutate(text, rng) for _ in range(count)]
