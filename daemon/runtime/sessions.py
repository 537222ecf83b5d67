"""Each conversation's Live session, made with the one client and the tools on offer.

The tools act on the appliance and the appliance makes sessions: the
composition root builds the appliance with `new`, then the tools, then
`offer`s them here, before the first conversation can open.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from daemon.config.schema import Config
from daemon.live.connect_config import setup_extras
from daemon.live.session import LiveSession
from daemon.live.warm import warm_sdk
from daemon.tools import ToolRegistry


class LiveSessions:
    def __init__(
        self,
        config: Config,
        api_key: str,
        client: Any,
        *,
        instruction_note: Callable[[], str] | None = None,
    ) -> None:
        self._config = config
        # Read at every connection's setup, so a fact remembered a minute ago is known
        # to the next conversation (and to a fresh session within this one).
        self._instruction_note = instruction_note
        self._api_key = api_key
        self._client = client
        self._extras = setup_extras(config)
        self._tools: ToolRegistry | None = None

    def offer(self, tools: ToolRegistry) -> None:
        """The functions every later session declares and runs."""
        self._tools = tools

    async def warm(self) -> None:
        """Build the SDK's classes now, so the first conversation does not wait for it."""
        tools = self._tools.declarations() if self._tools is not None else []
        await warm_sdk(self._config.gemini, tools, self._extras)

    def new(self, *, tools: bool = True) -> LiveSession:
        """A session for one conversation; tools=False declares none at all (no
        functions, no Google Search): one that reads out someone else's text."""
        if not tools:
            return LiveSession(
                self._config.gemini.model_copy(update={"google_search": False}),
                self._api_key,
                extras=self._extras,
                client=self._client,
            )
        offered = self._tools
        if offered is None:
            raise RuntimeError("no tools were offered before the first session")
        return LiveSession(
            self._config.gemini,
            self._api_key,
            tools=offered.declarations(),
            tool_handler=offered.call,
            scheduling=offered.scheduling,
            extras=self._extras,
            instruction_note=self._instruction_note,
            client=self._client,
        )
