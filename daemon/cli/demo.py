"""`speakerd demo`: see the whole appliance work, with no Pi and no API key."""

from __future__ import annotations

import argparse
from pathlib import Path

from daemon.demo import default_out_dir, run_demo


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser], summary: str) -> None:
    parser = subparsers.add_parser(
        "demo",
        help=summary,
        description="Run `speakerd run` with a simulated microphone, speaker and GPIO pins "
        "against the local Live API emulator, say the wake word and a command into the "
        "microphone, and narrate what happens. Needs pulseaudio and espeak-ng "
        "(scripts/demo installs them).",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="where to write speaker.wav, the log and the "
        "config (default: ./demo-output or $SPEAKERD_DEMO_OUT)",
    )  # fmt: skip
    parser.add_argument(
        "--say", default="turn on the lamp", metavar="COMMAND",
        help='what to say after "hey jarvis" (default: %(default)s)',
    )  # fmt: skip
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return run_demo((args.out or default_out_dir()).resolve(), args.say)
