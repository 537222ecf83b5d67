"""Relay tools: set_relay(name, state) and get_relays(), plus opening relays from config."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from daemon.config.schema import RelayConfig
from daemon.tools.spec import Param, Tool
from hardware.gpio.relays import Relay

log = logging.getLogger(__name__)

STATES = ("on", "off", "toggle")


def open_relays(configs: Iterable[RelayConfig], pin_factory: Any = None) -> dict[str, Relay]:
    """Every configured relay, driven to its initial state. Closes what it opened on failure."""
    relays: dict[str, Relay] = {}
    try:
        for config in configs:
            relays[config.name] = Relay(
                config.name,
                config.pin,
                active_high=config.active_high,
                initial=config.initial,
                pin_factory=pin_factory,
            )
    except Exception:
        close_relays(relays, configs)
        raise
    return relays


def close_relays(relays: Mapping[str, Relay], configs: Iterable[RelayConfig]) -> None:
    """Each relay back to its configured safe state, then released."""
    safe = {c.name: c.safe_state for c in configs}
    for name, relay in relays.items():
        try:
            relay.close(safe.get(name, "off"))
        except Exception:
            log.exception("relay %s did not close cleanly", name)


def relay_tools(
    descriptions: Mapping[str, str], relays: Mapping[str, Relay] | None, context: Any
) -> list[Tool]:
    """Tools for the relays named in ``descriptions`` (name -> description).

    ``relays`` None: declarations only (listing), calls report that nothing is open.
    No relays configured: no relay tools, so the model is not told about switching.
    """
    if not descriptions:
        return []
    names = tuple(descriptions)
    listing = ", ".join(
        f"{name} ({descriptions[name]})" if descriptions[name] else name for name in names
    )

    def opened() -> Mapping[str, Relay]:
        if relays is None:
            raise RuntimeError("the relays are not open in this process")
        return relays

    async def set_relay(name: str, state: str) -> dict[str, Any]:
        relay = opened()[name]
        action = {"on": relay.on, "off": relay.off, "toggle": relay.toggle}[state]
        is_on = await asyncio.to_thread(_switch, relay, action)
        context.relay_changed(name, is_on)
        log.info("tool set_relay: %s %s -> %s", name, state, "on" if is_on else "off")
        return {"name": name, "state": "on" if is_on else "off"}

    async def get_relays() -> list[dict[str, str]]:
        return [
            {
                "name": name,
                "state": "on" if relay.is_on else "off",
                "description": descriptions[name],
            }
            for name, relay in opened().items()
        ]

    return [
        Tool(
            "set_relay",
            f"Switch one of the relays of this device on or off. Relays: {listing}.",
            set_relay,
            {
                "name": Param("STRING", "Which relay.", enum=names, noun="relay"),
                "state": Param("STRING", "on, off, or toggle to flip it.", enum=STATES),
            },
            # The model says "okay, the lamp is on" while the relay switches (a few
            # ms); a second confirmation when the result comes would be one too many.
            # Only a failure is spoken (errors are WHEN_IDLE).
            blocking=False,
            scheduling="SILENT",
        ),
        Tool(
            "get_relays",
            f"Whether each relay of this device is on or off. Relays: {listing}.",
            get_relays,
        ),
    ]


def _switch(relay: Relay, action: Any) -> bool:
    action()
    return relay.is_on
