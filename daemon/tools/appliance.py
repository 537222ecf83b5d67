"""Tools the appliance carries out itself: set_volume(percent) and end_conversation()."""

from __future__ import annotations

import inspect
from typing import Any

from daemon.tools.spec import Param, Tool


def appliance_tools(context: Any) -> list[Tool]:
    async def set_volume(percent: int) -> dict[str, int]:
        await _maybe_await(context.set_volume(percent))
        return {"volume": percent}

    async def end_conversation() -> str:
        await _maybe_await(context.end_conversation())
        return "the conversation ends after this reply; say goodbye briefly if you have not"

    return [
        Tool(
            "set_volume",
            "Set the loudness of this speaker, in percent of full volume.",
            set_volume,
            {"percent": Param("INTEGER", "0 (silent) to 100 (loudest).", minimum=0, maximum=100)},
            # As set_relay: one confirmation, said while the volume changes.
            blocking=False,
            scheduling="SILENT",
        ),
        Tool(
            "end_conversation",
            "End the conversation and go back to waiting for the wake word. Call it when "
            "the user says goodbye or that they need nothing more, after a short farewell.",
            end_conversation,
        ),
    ]


async def _maybe_await(result: Any) -> None:
    if inspect.isawaitable(result):
        await result
