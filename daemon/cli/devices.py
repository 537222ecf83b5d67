"""`speakerd devices`: the microphones and speakers PortAudio sees, and which one we'd use.

What an owner runs after plugging in a USB microphone to learn the name to put
in audio.input_device, and to confirm the config picks the device they meant.
"""

from __future__ import annotations

import argparse
import sys

from daemon.cli.common import add_config_arg, config_path, load_config_or_exit
from daemon.config import Config
from hardware.audio.host import (
    DeviceInfo,
    DeviceNotFound,
    Direction,
    default_device_index,
    find_device,
    list_devices,
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser], summary: str) -> None:
    parser = subparsers.add_parser(
        "devices",
        help=summary,
        description=(
            "List PortAudio input and output devices with index, name, channels and default "
            "rate. 'default' marks the system default, 'config' what audio.input_device / "
            "audio.output_device select. Exit 1 when the config names a device that is missing."
        ),
    )
    add_config_arg(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = _config(args)
    devices = list_devices()
    status = 0
    for direction, title, key, wanted in (
        ("input", "Microphones (input)", "audio.input_device", config.audio.input_device),
        ("output", "Speakers (output)", "audio.output_device", config.audio.output_device),
    ):
        print(f"{title}:")
        chosen, problem = _chosen(wanted, direction)  # type: ignore[arg-type]
        for line in table(devices, direction, chosen):  # type: ignore[arg-type]
            print(line)
        if problem:
            print(f"  {key}: {problem}", file=sys.stderr)
            status = 1
        elif wanted is None:
            print(f"  {key} is unset: the system default is used")
        print()
    return status


def _config(args: argparse.Namespace) -> Config:
    """The config file's audio section, or the defaults when no file exists yet."""
    if args.config is None and not config_path(args).exists():
        return Config()
    return load_config_or_exit(args)


def _chosen(wanted: int | str | None, direction: Direction) -> tuple[int | None, str | None]:
    try:
        return find_device(wanted, direction).index, None
    except DeviceNotFound as exc:
        return None, str(exc)


def table(devices: list[DeviceInfo], direction: Direction, chosen: int | None) -> list[str]:
    """Rows for one direction: index, name, channels, default rate, marks."""
    default = default_device_index(direction)
    rows = [d for d in devices if d.channels(direction) > 0]
    if not rows:
        return ["  (none)"]
    width = max(len(d.name) for d in rows)
    lines = [f"  {'index':>5}  {'name':<{width}}  {'channels':>8}  {'rate':>6}  marks"]
    for d in rows:
        marks = [
            m for m, on in (("default", d.index == default), ("config", d.index == chosen)) if on
        ]
        lines.append(
            f"  {d.index:>5}  {d.name:<{width}}  {d.channels(direction):>8}  "
            f"{d.default_rate:>6}  {', '.join(marks)}".rstrip()
        )
    return lines
