"""Build the SDK's message classes while the speaker is idle, not after the wake word.

google-genai's pydantic classes build their validators the first time each is
used. Left alone, the first conversation after start-up pays for it between the
wake word and the answer: 40 ms to open the session and 38 ms to read the
model's first audio on a 2-core x86 machine, several times that on a Pi. Going
once through every class a conversation uses, right after start-up, moves that
to a moment nobody is waiting.

    await warm_sdk(config.gemini, tools.declarations(), setup_extras(config))
"""

from __future__ import annotations

import asyncio
import logging
import time
import typing
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pydantic
from google.genai import types

from daemon.config.schema import GeminiConfig
from daemon.live.connect_config import (
    NO_EXTRAS,
    SetupExtras,
    build_connect_config,
    function_declarations,
)

log = logging.getLogger(__name__)

SERVER_MESSAGES: tuple[dict[str, Any], ...] = (
    {"setupComplete": {}},
    {"serverContent": {"modelTurn": {"parts": [
        {"inlineData": {"data": "AAAA", "mimeType": "audio/pcm;rate=24000"}},
        {"text": "thinking", "thought": True},
    ]}}},
    {"serverContent": {"inputTranscription": {"text": "hi"},
                       "outputTranscription": {"text": "hello"}}},
    {"serverContent": {"interrupted": True}},
    {"serverContent": {"generationComplete": True, "turnComplete": True}},
    {"toolCall": {"functionCalls": [{"id": "1", "name": "lamp", "args": {"on": True}}]}},
    {"toolCallCancellation": {"ids": ["1"]}},
    {"goAway": {"timeLeft": "10s"}},
    {"sessionResumptionUpdate": {"newHandle": "handle", "resumable": True}},
    {"usageMetadata": {"totalTokenCount": 3}},
)
"""One of each kind of frame a conversation receives (docs/live-protocol.md)."""


def warm_steps(
    config: GeminiConfig,
    tools: Sequence[Mapping[str, Any]] = (),
    extras: SetupExtras = NO_EXTRAS,
) -> Iterator[str]:
    """Each step uses the classes of one part of a conversation; yields its name."""
    connect = build_connect_config(config, function_declarations(tools), extras=extras)
    types.LiveConnectParameters(model=config.model, config=connect)
    yield "the session's setup"
    for field, blob in (
        ("audio", types.Blob(data=b"\0\0", mime_type="audio/pcm;rate=16000")),
        ("video", types.Blob(data=b"\xff\xd8", mime_type="image/jpeg")),
        ("text", "hello"),
    ):
        types.LiveSendRealtimeInputParameters.model_validate({field: blob})
    yield "the microphone, the camera and typed text"
    for message in SERVER_MESSAGES:
        types.LiveServerMessage.model_validate(message)
    for part in _parts_of(types.LiveServerMessage):  # the SDK builds some on their own
        part.model_rebuild()
    yield "the server's frames"
    response = types.FunctionResponse(id="1", name="lamp", response={"result": "ok"})
    types.LiveClientToolResponse(function_responses=[response])
    types.LiveClientContent(
        turns=[types.Content(role="user", parts=[types.Part(text="hello")])],
        turn_complete=True,
    )
    types.HttpOptions(timeout=1)  # made again at each connect
    yield "tool replies and typed turns"


def _parts_of(root: type[pydantic.BaseModel]) -> list[type[pydantic.BaseModel]]:
    """Every pydantic class a `root` can hold, at any depth."""
    found: list[type[pydantic.BaseModel]] = []
    waiting: list[Any] = [root]
    while waiting:
        kind = waiting.pop()
        if isinstance(kind, type) and issubclass(kind, pydantic.BaseModel):
            if kind in found:
                continue
            found.append(kind)
            waiting.extend(field.annotation for field in kind.model_fields.values())
        else:
            waiting.extend(typing.get_args(kind))
    return found


async def warm_sdk(
    config: GeminiConfig,
    tools: Sequence[Mapping[str, Any]] = (),
    extras: SetupExtras = NO_EXTRAS,
) -> None:
    """All of warm_steps on the event loop, letting it run between steps; a failure
    is logged and changes nothing (the classes are then built when first used)."""
    began = time.monotonic()
    try:
        for _ in warm_steps(config, tools, extras):
            await asyncio.sleep(0)
    except Exception as exc:
        log.debug("the SDK's classes were not built ahead: %s", exc)
        return
    log.debug("the SDK's classes built in %.0f ms", 1000 * (time.monotonic() - began))
