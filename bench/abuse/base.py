"""The documented config file, pointed at the campaign's own world, as the base of every case.

config/speakerd.yaml as shipped names /run/speakerd and /var/lib/speakerd, the
default audio devices, Google and a broker on localhost:1883. Here a few of its
values become placeholders (@SOCKET@ ...) filled per case: the case's own
directory, the private PulseAudio devices, the emulator, and a loopback port
nobody listens on (a mutation that turns MQTT on must not reach a broker some
other test runs). Placeholders are filled after mutation, so the same seed
gives the same mutations whatever the temporary paths are called; a mutation
that breaks a placeholder leaves it as literal text, which is a mutation too.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from bench.stage import ROOT

DOCUMENTED = ROOT / "config" / "speakerd.yaml"

SUBSTITUTIONS = [
    ("  socket: /run/speakerd/control.sock", "  socket: @SOCKET@"),
    ("  state_dir: /var/lib/speakerd", "  state_dir: @STATE@"),
    ("  base_url: null", "  base_url: @BASE_URL@"),
    ("  ca_file: null  # Extra CA", "  ca_file: @CA_FILE@  # Extra CA"),
    ("  input_device: null", '  input_device: "mic"'),
    ("  output_device: null", '  output_device: "speaker"'),
    ('  host: "localhost"', '  host: "127.0.0.1"'),
    ("  port: 1883", "  port: @MQTT_PORT@"),
]


class DocumentedFileChanged(RuntimeError):
    """config/speakerd.yaml no longer holds a line the campaign rewrites."""


@dataclass
class World:
    """Where the cases live and what their daemons talk to."""

    workdir: Path
    base_url: str
    ca_file: Path
    closed_port: int
    held: list[object] = field(default_factory=list)
    """Sockets the cases hold open (a live 'other daemon'); closed at the end."""

    def case_dir(self, index: int) -> Path:
        path = self.workdir / f"c{index:03d}"
        path.mkdir(parents=True, exist_ok=True)
        return path


def template(text: str | None = None) -> str:
    """The documented file with its placeholders (raises when a rewritten line is gone)."""
    text = DOCUMENTED.read_text() if text is None else text
    for old, new in SUBSTITUTIONS:
        if text.count(old) != 1:
            raise DocumentedFileChanged(f"{DOCUMENTED} no longer holds exactly one {old!r}; "
                                        "update bench/abuse/base.py")
        text = text.replace(old, new)
    return text


def fill(text: str, world: World, case_dir: Path) -> str:
    """The placeholders replaced by this case's paths and this world's services."""
    return fill_bytes(text.encode("utf-8", "surrogatepass"), world, case_dir).decode(
        "utf-8", "surrogatepass")


def fill_bytes(text: bytes, world: World, case_dir: Path) -> bytes:
    """fill() for a mutated file, which need not be UTF-8."""
    values = {
        "@SOCKET@": json.dumps(str(case_dir / "ctl.sock")),
        "@STATE@": json.dumps(str(case_dir / "state")),
        "@BASE_URL@": json.dumps(world.base_url),
        "@CA_FILE@": json.dumps(str(world.ca_file)),
        "@MQTT_PORT@": str(world.closed_port),
    }
    for placeholder, value in values.items():
        text = text.replace(placeholder.encode(), value.encode())
    return text


def set_value(text: str, section: str, key: str, value: str) -> str:
    """`section.key: value` (value as YAML) in a file laid out like the documented one."""
    lines = text.splitlines(keepends=True)
    start = lines.index(f"{section}:\n")
    for index in range(start + 1, len(lines)):
        if re.match(r"\S", lines[index]):
            break  # the next section
        if lines[index].startswith(f"  {key}:"):
            lines[index] = f"  {key}: {value}\n"
            return "".join(lines)
    raise KeyError(f"{section}.{key} is not in the documented file")


def quoted(value: str) -> str:
    """A YAML double-quoted string holding `value` exactly (JSON escapes are YAML's)."""
    return json.dumps(value)
