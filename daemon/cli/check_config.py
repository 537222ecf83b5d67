"""`speakerd check-config [PATH]`: validate the file an owner just edited."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from daemon.cli.common import add_config_arg
from daemon.config import (
    EX_CONFIG,
    ApiKeyError,
    Config,
    ConfigError,
    api_key_source,
    default_config_path,
    load_config,
    resolve_api_key,
)


def register(subparsers: argparse._SubParsersAction, summary: str) -> None:
    parser = subparsers.add_parser(
        "check-config",
        help=summary,
        description="Validate a configuration file. Exit 0 when usable, 78 when not.",
    )
    parser.add_argument("path", nargs="?", type=Path, help="file to check (same as --config)")
    add_config_arg(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    path: Path = args.path or args.config or default_config_path()
    try:
        config = load_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        count = len(exc.problems)
        print(
            f"{path}: {count} problem{'s' if count != 1 else ''}; nothing was started",
            file=sys.stderr,
        )
        return EX_CONFIG
    print(f"{path}: OK")
    for line in summary(config):
        print(f"  {line}")
    try:
        resolve_api_key(config.gemini)
    except ApiKeyError as exc:
        print(f"warning: {exc}; `speakerd run` will refuse to start", file=sys.stderr)
    return 0


def summary(config: Config) -> list[str]:
    """A few lines an owner can eyeball to confirm the file says what they meant."""
    gemini, wake, leds = config.gemini, config.wake_word, config.leds
    relays = ", ".join(f"{r.name} (pin {r.pin})" for r in config.relays) or "none"
    led_pins = ", ".join(f"{k} {v}" for k, v in leds.used_pins().items())
    return [
        f"model {gemini.model}, voice {gemini.voice}, key from {api_key_source(gemini)}"
        + (f", service {gemini.base_url}" if gemini.base_url else ""),
        f"wake words {', '.join(wake.models)} (threshold {wake.threshold})",
        f"microphone {_device(config.audio.input_device)}, speaker {_device(config.audio.output_device)}, "
        f"echo cancellation {config.audio.echo_cancellation}, barge-in "
        + ("follows it" if config.audio.barge_in is None else "on" if config.audio.barge_in else "off"),
        f"button {'pin ' + str(config.button.pin) if config.button.pin is not None else 'none'}, "
        f"LEDs {leds.kind}" + (f" ({led_pins})" if led_pins else ""),
        f"relays: {relays}",
        f"camera {'on at ' + str(config.camera.fps) + ' fps' if config.camera.enabled else 'off'}",
        f"follow-up {config.conversation.follow_up_seconds:g} s, "
        f"longest conversation {config.conversation.max_seconds:g} s, control socket {config.control.socket}",
    ]


def _device(device: int | str | None) -> str:
    return "default" if device is None else repr(device)
