"""`speakerd run`: the appliance itself, as systemd starts it."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from daemon.cli.common import add_config_arg, load_config_or_exit
from daemon.config import EX_CONFIG, ApiKeyError, resolve_api_key
from daemon.config.files import file_warnings
from daemon.config.model_rules import model_warnings
from daemon.control.server import ControlSocketError, daemon_answers
from daemon.core.safe_text import printable
from daemon.live.errors import FatalSessionError
from daemon.wakeword.models import WakeWordModelError

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser], summary: str) -> None:
    parser = subparsers.add_parser(
        "run",
        help=summary,
        description="Listen for the wake word and hold Gemini Live conversations. "
        "Exit 0 on SIGTERM, 78 on a configuration problem.",
    )
    add_config_arg(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from daemon.runtime.service import serve  # heavy imports only for this command

    config = load_config_or_exit(args)
    for warning in file_warnings(config) + model_warnings(config):
        log.warning("%s", warning)
    # Before the models load and the pins are claimed: a second daemon must not
    # take over the first one's socket (nor restart-loop trying).
    if daemon_answers(config.control.socket):
        return _refuse(
            f"another speakerd is already running and answering on {config.control.socket}; "
            "stop it first (systemctl stop speakerd)"
        )
    try:
        api_key = resolve_api_key(config.gemini)
    except ApiKeyError as exc:
        return _refuse(str(exc))
    try:
        return asyncio.run(serve(config, api_key))
    except (WakeWordModelError, FatalSessionError, ControlSocketError) as exc:
        return _refuse(str(exc))


def _refuse(reason: str) -> int:
    """Exit 78: systemd's RestartPreventExitStatus=78 keeps it from retrying in a loop."""
    print(f"speakerd: {printable(reason, 1000)}", file=sys.stderr)
    return EX_CONFIG
