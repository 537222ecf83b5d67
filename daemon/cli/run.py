"""`speakerd run`: the appliance itself, as systemd starts it."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from daemon.cli.common import add_config_arg, load_config_or_exit
from daemon.config import EX_CONFIG, ApiKeyError, resolve_api_key
from daemon.live.errors import FatalSessionError
from daemon.wakeword.models import WakeWordModelError

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction, summary: str) -> None:
    parser = subparsers.add_parser(
        "run",
        help=summary,
        description="Listen for the wake word and hold Gemini Live conversations. "
        "Exit 0 on SIGTERM, 78 on a configuration problem.",
    )
    add_config_arg(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from daemon.appliance.service import serve  # heavy imports only for this command

    config = load_config_or_exit(args)
    try:
        api_key = resolve_api_key(config.gemini)
    except ApiKeyError as exc:
        print(f"speakerd: {exc}", file=sys.stderr)
        return EX_CONFIG
    try:
        return asyncio.run(serve(config, api_key))
    except (WakeWordModelError, FatalSessionError) as exc:
        print(f"speakerd: {exc}", file=sys.stderr)
        return EX_CONFIG
