"""The `speakerd` command: one small module per subcommand, wired here."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

from daemon.logs import setup_logging

# name -> (module, one-line summary). Only the module of the command being run is
# imported: `speakerd run` should not load the emulator, `ctl` not the ONNX runtime.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "run": ("run", "run the appliance (what the systemd service starts)"),
    "demo": ("demo", "run the whole daemon on simulated hardware against the local emulator"),
    "ctl": ("ctl", "control the running daemon (status, wake, say, mute, stop)"),
    "check-config": ("check_config", "validate a configuration file and summarise it"),
    "devices": ("devices", "list audio devices and mark the ones the config selects"),
    "tools": ("tools", "list the model's tools or call one by hand"),
    "detect": ("detect", "run the wake-word detector over a WAV file"),
    "emulator": ("emulator", "run the local Gemini Live API emulator (loopback only)"),
}


def _version() -> str:
    try:
        return version("speakerd")
    except PackageNotFoundError:
        return "unknown"


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="speakerd",
        description="Smart-speaker daemon: wake word, Gemini Live, LEDs, button and relays.",
    )
    parser.add_argument("--version", action="version", version=f"speakerd {_version()}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = next((arg for arg in argv if not arg.startswith("-")), None)
    for name, (module, summary) in SUBCOMMANDS.items():
        if name == chosen:
            importlib.import_module(f"daemon.cli.{module}").register(subparsers, summary)
        else:
            subparsers.add_parser(name, help=summary)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
