"""Run one tool call so that the model always gets an answer.

A tool that raises or returns nonsense must not take the session down, and
the model must not wait forever: every outcome except a cancellation becomes
a result dict sent back with the call's id.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from daemon.core.redact import scrub

log = logging.getLogger(__name__)

ToolHandler = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


async def run_tool(handler: ToolHandler | None, name: str, args: dict[str, Any]) -> dict[str, Any]:
    """The handler's result, or {"error": ...}; only cancellation propagates."""
    if handler is None:
        return {"error": f"no tool named {name!r} is available"}
    try:
        result = await handler(name, args)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        message = scrub(exc) or type(exc).__name__
        log.warning("tool %s failed: %s: %s", name, type(exc).__name__, message)
        return {"error": f"{name} failed: {message}"}
    if not isinstance(result, dict):
        log.warning("tool %s returned %s instead of a dict", name, type(result).__name__)
        return {"error": f"{name} returned {type(result).__name__}, not a result object"}
    try:
        json.dumps(result)
    except (TypeError, ValueError) as exc:
        log.warning("tool %s returned a result that is not JSON: %s", name, scrub(exc))
        return {"error": f"{name} returned a result that cannot be sent: {scrub(exc)}"}
    return result
