"""`speakerd emulator`: the local Gemini Live API emulator in the foreground.

Prints exactly one line, `listening on wss://HOST:PORT`, once it accepts
connections, and serves until SIGINT or SIGTERM (exit 0). It refuses any
non-loopback address (exit 2): it has no authentication worth the name.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser], summary: str) -> None:
    parser = subparsers.add_parser(
        "emulator",
        help=summary,
        description="Serve a local Gemini Live API emulator over TLS on a loopback address.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="TCP port; 0 picks a free one")
    parser.add_argument("--ca-out", type=Path, help="write the throw-away CA certificate here")
    parser.add_argument("--api-key", help="accept only this API key (default: any non-empty key)")
    parser.add_argument(
        "--speech",
        choices=("auto", "espeak", "tone"),
        default="auto",
        help="reply voice: espeak-ng when installed (auto), or a tone",
    )
    parser.add_argument(
        "--speech-pace",
        type=float,
        default=1.0,
        help="seconds of reply audio per second (1 = real time, 0 = as fast as possible)",
    )
    parser.add_argument(
        "--connection-lifetime",
        type=float,
        help="seconds before each connection gets goAway and is closed (default: unlimited)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from daemon.emulator import LiveEmulator, NotLoopbackError, check_loopback

    try:
        check_loopback(args.host)
    except NotLoopbackError as error:
        print(f"speakerd emulator: {error}", file=sys.stderr)
        return 2
    if not 0 <= args.port <= 65535:
        print(f"speakerd emulator: port {args.port} is not in 0-65535", file=sys.stderr)
        return 2
    if args.api_key is not None and not args.api_key:
        print("speakerd emulator: --api-key must not be empty", file=sys.stderr)
        return 2
    emulator = LiveEmulator(
        host=args.host,
        port=args.port,
        api_key=args.api_key,
        ca_out=args.ca_out,
        speech=args.speech,
        speech_pace=args.speech_pace,
        connection_lifetime=args.connection_lifetime,
    )
    try:
        return asyncio.run(_serve(emulator))
    except OSError as error:
        print(
            f"speakerd emulator: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr
        )
        return 1


async def _serve(emulator: object) -> int:
    from daemon.emulator import LiveEmulator

    assert isinstance(emulator, LiveEmulator)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await emulator.start()
    try:
        print(f"listening on {emulator.ws_url}", flush=True)
        log.info("CA certificate: %s", emulator.ca_file)
        await stop.wait()
    finally:
        await emulator.stop()
    return 0
