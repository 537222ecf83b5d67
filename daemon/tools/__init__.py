"""The model's local tools: declared from the config, called with checked arguments.

One module per tool group (relays, clock, appliance, camera, timers, and the owner's
own from the config: command, http_request, gpio_input, put together by
owner.py); registry.py puts them together for the Live session.
"""

from daemon.tools.context import StandaloneContext, ToolContext
from daemon.tools.registry import ToolRegistry
from daemon.tools.relays import close_relays, open_relays
from daemon.tools.spec import DEFAULT_TIMEOUT, ArgumentError, Param, Tool

__all__ = [
    "DEFAULT_TIMEOUT",
    "ArgumentError",
    "Param",
    "StandaloneContext",
    "Tool",
    "ToolContext",
    "ToolRegistry",
    "close_relays",
    "open_relays",
]
