"""Translate the server's content frames into the session's own events.

A pure function of one frame, so the mapping (order of transcripts, audio,
interrupted, generationComplete, turnComplete) is easy to read and test.
"""

from __future__ import annotations

import logging
import re

from google.genai import types

from daemon.live import events as ev

log = logging.getLogger(__name__)


def content_events(
    content: types.LiveServerContent, usage: types.UsageMetadata | None = None
) -> list[ev.SessionEvent]:
    """The events one serverContent frame (and its usageMetadata) stands for, in order."""
    out: list[ev.SessionEvent] = []
    if content.input_transcription is not None and content.input_transcription.text:
        out.append(ev.InputTranscript(content.input_transcription.text))
    if content.model_turn is not None:
        for part in content.model_turn.parts or []:
            blob = part.inline_data
            if blob is not None and blob.data and (blob.mime_type or "").startswith("audio/"):
                out.append(ev.ModelAudio(blob.data, rate_of(blob.mime_type or "")))
            elif part.text:
                log.debug("model text part ignored (audio session): %.80s", part.text)
    if content.output_transcription is not None and content.output_transcription.text:
        out.append(ev.OutputTranscript(content.output_transcription.text))
    if content.grounding_metadata is not None:
        grounding = grounding_event(content.grounding_metadata)
        if grounding is not None:
            out.append(grounding)
    if content.interrupted:
        out.append(ev.Interrupted())
    if content.generation_complete:
        out.append(ev.GenerationComplete())
    if content.turn_complete:
        counts = usage.model_dump(exclude_none=True, mode="json") if usage else None
        out.append(ev.TurnComplete(counts or None))
    return out


def grounding_event(metadata: types.GroundingMetadata) -> ev.Grounding | None:
    """Queries and web sources of a grounded answer (docs/live-protocol.md,
    "Model generations"); None when the frame names neither."""
    queries = tuple(q for q in metadata.web_search_queries or [] if q)
    sources = tuple(
        ev.Source(chunk.web.title or chunk.web.domain or chunk.web.uri or "", chunk.web.uri or "")
        for chunk in metadata.grounding_chunks or []
        if chunk.web is not None and (chunk.web.uri or chunk.web.title)
    )
    if not queries and not sources:
        return None
    return ev.Grounding(queries, sources)


def rate_of(mime_type: str) -> int:
    """The sample rate in 'audio/pcm;rate=24000' (the API's default when absent)."""
    match = re.search(r"rate=(\d+)", mime_type)
    return int(match.group(1)) if match else ev.DEFAULT_OUTPUT_RATE
