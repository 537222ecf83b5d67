"""Render config/speakerd.yaml from the model, so the documented file cannot drift.

Run `python -m daemon.config.document > config/speakerd.yaml` after changing
the schema; a test fails when the committed file differs from this output.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from daemon.config.schema import Config
from daemon.config.tools import TOOLS_EXAMPLE

HEADER = """\
# speakerd configuration: /etc/speakerd/config.yaml
#
# Every key is shown with its default. Set only what differs; a file with just
# `{}` is valid. Check an edited file with: speakerd check-config PATH
# The API key never goes here: put GEMINI_API_KEY=... in /etc/speakerd/env
# (owner root, mode 0600: systemd reads it before dropping privileges), or point
# gemini.api_key_file at a file the service reads itself as user speakerd:
# owner root, group speakerd, mode 0640 (speakerd warns when others can read it).
"""

RELAY_EXAMPLE = """\
  # - name: lamp                 # identifier the model uses
  #   pin: 17                    # BCM pin
  #   active_high: false         # many relay boards switch on a low pin
  #   initial: "off"             # state at start-up
  #   safe_state: "off"          # state on shutdown
  #   description: the floor lamp in the living room
"""

# Lists default to empty; these commented entries show what one looks like.
LIST_EXAMPLES = {"relays": RELAY_EXAMPLE, "tools": TOOLS_EXAMPLE}


def render() -> str:
    lines = [HEADER.rstrip("\n")]
    _render_model(Config(), lines, indent=0)
    return "\n".join(lines).rstrip() + "\n"


def _render_model(model: BaseModel, lines: list[str], indent: int) -> None:
    pad = "  " * indent
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        doc = info.description or ""
        if isinstance(value, BaseModel):
            if indent == 0:
                lines.append("")
            lines.append(f"{pad}# {doc}" if doc else "")
            lines.append(f"{pad}{name}:")
            _render_model(value, lines, indent + 1)
        elif name in LIST_EXAMPLES:
            example = LIST_EXAMPLES[name].rstrip("\n")
            lines.extend(["", f"{pad}# {doc}", f"{pad}{name}: []", example])
        else:
            lines.append(f"{pad}{name}: {_scalar(value)}" + (f"  # {doc}" if doc else ""))


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        value = list(value)
    if isinstance(value, str) and value in {"on", "off", "yes", "no"}:
        return f'"{value}"'  # YAML 1.1 readers would take these for booleans
    return json.dumps(value) if not isinstance(value, bool) else str(value).lower()


if __name__ == "__main__":
    sys.stdout.write(render())
