"""The `speakerd` command: one small module per subcommand, wired here."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

# Each module exposes register(subparsers); the order is the order in --help.
SUBCOMMANDS: tuple[str, ...] = (
    "run", "demo", "ctl", "check_config", "devices", "tools", "detect", "emulator",
)  # fmt: skip


def _version() -> str:
    try:
        return version("speakerd")
    except PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="speakerd",
        description="Smart-speaker daemon: wake word, Gemini Live, LEDs, button and relays.",
    )
    parser.add_argument("--version", action="version", version=f"speakerd {_version()}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        importlib.import_module(f"daemon.cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
