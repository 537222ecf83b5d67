"""`speakerd tools list|call`: see what the model is offered, and try one tool by hand.

    speakerd tools list
    speakerd tools call set_relay '{"name": "lamp", "state": "on"}'
    speakerd tools call garage '{"action": "open"}'

`call` runs the tool on the configured hardware (GPIOZERO_PIN_FACTORY=mock
runs it anywhere) and prints its result as JSON: exit 0 on a result, 2 when
the call itself is wrong (unknown tool, bad arguments), 1 when the tool or the
hardware failed. The owner's own tools (config `tools:`) run exactly as the
daemon runs them: the same checks, the same clean environment and timeout,
though as the user who types the command. Stop the service first: it holds
the pins.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

from daemon.cli.common import add_config_arg, load_config_or_exit
from daemon.config.schema import Config
from daemon.tools import StandaloneContext, ToolRegistry, close_relays, open_relays
from hardware.camera import Camera, open_camera

RELAY_TOOLS = ("set_relay", "get_relays")
EXIT_BAD_CALL = 2
EXIT_FAILED = 1
PIN_HINT = (
    "On a Pi, stop the speakerd service first (it holds the pins); "
    "elsewhere GPIOZERO_PIN_FACTORY=mock simulates them"
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser], summary: str) -> None:
    parser = subparsers.add_parser(
        "tools",
        help=summary,
        description="List the tools the model is offered, or run one on this device's hardware.",
    )
    actions = parser.add_subparsers(dest="tools_command", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="print the function declarations (JSON)")
    add_config_arg(listing)
    listing.set_defaults(func=run_list)

    call = actions.add_parser(
        "call",
        help="run one tool and print its result (JSON)",
        description="Run one tool on the configured hardware and print its result as JSON. "
        "Relays start in their configured initial state and are released on exit.",
    )
    call.add_argument("name", help="tool name, e.g. set_relay")
    call.add_argument(
        "arguments",
        nargs="?",
        default="{}",
        help='JSON object, e.g. \'{"name": "lamp", "state": "on"}\'',
    )
    call.add_argument(
        "--hold",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="keep the relays switched this long before releasing them",
    )
    add_config_arg(call)
    call.set_defaults(func=run_call)


def run_list(args: argparse.Namespace) -> int:
    config = load_config_or_exit(args)
    registry = ToolRegistry.from_config(
        config, relays=None, context=StandaloneContext(), camera_available=config.camera.enabled
    )
    _print(registry.declarations())
    if config.camera.enabled:
        print("note: look is offered only when the camera is found at start-up", file=sys.stderr)
    return 0


def run_call(args: argparse.Namespace) -> int:
    config = load_config_or_exit(args)
    try:
        arguments = json.loads(args.arguments)
    except json.JSONDecodeError as exc:
        _print({"error": f'arguments are not JSON ({exc}); e.g. \'{{"name": "lamp"}}\''})
        return EXIT_BAD_CALL
    name: str = args.name
    if name == "look" and not config.camera.enabled:
        _print({"error": "look is offered only with camera.enabled: true in the config"})
        return EXIT_BAD_CALL

    # Check the call before touching any pin, so a typo switches nothing.
    problem = _registry(config, None, None).validate(name, arguments)
    if problem is not None:
        _print({"error": problem})
        return EXIT_BAD_CALL

    relays: dict[str, Any] | None = None  # only relay tools open the relay pins
    camera: Camera | None = None
    try:
        if name in RELAY_TOOLS:
            try:
                relays = open_relays(config.relays)
            except Exception as exc:
                _print(
                    {"error": f"cannot open the relay pins: {str(exc).rstrip('.!')}. {PIN_HINT}"}
                )
                return EXIT_FAILED
        if name == "look":
            camera = open_camera(config.camera.resolution, config.camera.jpeg_quality)
            if camera is None:
                _print({"error": "no camera could be opened (see the log line above)"})
                return EXIT_FAILED
        context = StandaloneContext(camera)
        registry = _registry(config, relays, context)
        try:
            result = asyncio.run(registry.call(name, arguments))
        finally:
            registry.close()  # the pins of the owner's GPIO inputs
        if "error" in result and name in _gpio_tools(config) and "could not be opened" in str(
            result["error"]
        ):
            result = {"error": f"{result['error']}. {PIN_HINT}"}
        _print(result)
        for note in context.notes:
            print(f"note: {note}", file=sys.stderr)
        if relays and args.hold > 0:
            time.sleep(args.hold)
        return EXIT_FAILED if "error" in result else 0
    finally:
        if relays:
            close_relays(relays, config.relays)
        if camera is not None:
            camera.close()


def _registry(
    config: Config, relays: dict[str, Any] | None, context: StandaloneContext | None
) -> ToolRegistry:
    camera = context.camera if context is not None else None
    return ToolRegistry.from_config(
        config,
        relays=relays,
        context=context or StandaloneContext(),
        camera_available=config.camera.enabled if camera is None else True,
    )


def _gpio_tools(config: Config) -> set[str]:
    return {tool.name for tool in config.tools if tool.gpio_input is not None}


def _print(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))
