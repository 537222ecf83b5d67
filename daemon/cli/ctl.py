"""`speakerd ctl`: talk to the running daemon through its control socket."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from daemon.cli.common import add_config_arg, load_config_or_exit
from daemon.control.client import request
from daemon.core.safe_text import printable


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser], summary: str) -> None:
    parser = subparsers.add_parser(
        "ctl",
        help=summary,
        description="Send one command to the running daemon over its control socket.",
    )
    add_config_arg(parser)
    parser.add_argument("--socket", type=Path, help="control socket (default: from the config)")
    parser.add_argument("--json", action="store_true", help="print the raw JSON reply")
    parser.add_argument(
        "--timeout", type=float, default=10.0, metavar="SECONDS", help="give up after this long"
    )
    commands = parser.add_subparsers(dest="ctl_command", metavar="COMMAND", required=True)
    commands.add_parser("status", help="state, mute, relays, timers, last transcripts, uptime, last error")
    commands.add_parser("wake", help="as the button: start a conversation, or end the open one")
    say = commands.add_parser("say", help="send text into the conversation (opens one when idle)")
    say.add_argument("text", nargs="+")
    mute = commands.add_parser("mute", help="close or open the microphone")
    mute.add_argument("on", choices=["on", "off"])
    commands.add_parser(
        "stop", help="stop a ringing timer, else end the conversation, else stop the music"
    )
    play = commands.add_parser("play", help="play a station by name, a URL, or library music")
    play.add_argument("what", nargs="+")
    commands.add_parser("pause", help="pause the music")
    commands.add_parser("resume", help="resume the paused music")
    commands.add_parser("next", help="skip to the next track")
    commands.add_parser("now", help="what music is playing")
    commands.add_parser("timers", help="pending timers and alarms, with the time left")
    cancel = commands.add_parser("cancel", help="cancel a timer or alarm: LABEL, ID or all")
    cancel.add_argument("what", nargs="+")
    memory = commands.add_parser(
        "memory", help="the household memory: list, forget ID (or words of a fact), clear"
    )
    memory.add_argument("action", choices=["list", "forget", "clear"])
    memory.add_argument("what", nargs="*", help="forget: the fact's id (m3) or words of it")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    socket = args.socket or load_config_or_exit(args).control.socket
    payload: dict[str, object] = {"cmd": args.ctl_command}
    if args.ctl_command == "say":
        payload["text"] = " ".join(args.text)
    elif args.ctl_command == "mute":
        payload["on"] = args.on == "on"
    elif args.ctl_command in ("cancel", "play"):
        payload["what"] = " ".join(args.what)
    elif args.ctl_command == "memory":
        payload["action"] = args.action
        if args.what:
            payload["what"] = " ".join(args.what)
    timeout = args.timeout if args.ctl_command != "play" else max(args.timeout, 20.0)
    try:
        reply = asyncio.run(request(socket, payload, timeout=max(timeout, 0.1)))
    except (FileNotFoundError, ConnectionRefusedError):
        print(f"speakerd is not running (no control socket at {socket})", file=sys.stderr)
        return 1
    except PermissionError:
        print(f"no permission to use {socket}; join the speakerd group", file=sys.stderr)
        return 1
    except (TimeoutError, ConnectionError) as exc:
        print(f"no reply from speakerd on {socket}: {exc or 'timed out'}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as exc:  # ValueError: a reply that is not JSON
        print(f"cannot talk to speakerd on {socket}: {printable(exc)}", file=sys.stderr)
        return 1
    if not isinstance(reply, dict):
        print(f"speakerd on {socket} sent a reply that is not an object", file=sys.stderr)
        return 1
    if not reply.get("ok"):
        print(f"error: {printable(reply.get('error'), 1000)}", file=sys.stderr)
        return 2
    print(
        json.dumps(reply, indent=2) if args.json or args.ctl_command == "status" else _short(reply)
    )
    return 0


def _short(reply: dict[str, object]) -> str:
    """The reply's message, a line per line it has (`timers`, `memory list`), each escaped."""
    message = reply.get("message") or reply.get("state") or "ok"
    if isinstance(message, str) and "\n" in message:
        return "\n".join(printable(line, 1000) for line in message.splitlines()[:1000])
    return printable(message, 1000)
