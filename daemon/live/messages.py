"""Translate the server's content frames into the session's own events.

A pure function of one frame, so the mapping (order of transcripts, audio,
interrupted, generationComplete, turnComplete) is easy to read and test.
What the SDK accepts is not always usable: audio must be whole 16-bit samples
at a rate the speaker can resample, and text must be writable as UTF-8 (the
log, the control socket and MQTT all write it), so those are checked here.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from google.genai import types

from daemon.live import events as ev

log = logging.getLogger(__name__)

PLAYABLE_RATES = range(8000, 48001)  # Hz: what a speaker resamples sensibly
_MAX_RATE_DIGITS = 9
_SURROGATE = re.compile("[\ud800-\udfff]")


def content_events(
    content: types.LiveServerContent, usage: types.UsageMetadata | None = None
) -> list[ev.SessionEvent]:
    """The events one serverContent frame (and its usageMetadata) stands for, in order."""
    out: list[ev.SessionEvent] = []
    if content.input_transcription is not None and content.input_transcription.text:
        out.append(ev.InputTranscript(clean_text(content.input_transcription.text)))
    if content.model_turn is not None:
        for part in content.model_turn.parts or []:
            blob = part.inline_data
            if blob is not None and blob.data and (blob.mime_type or "").startswith("audio/"):
                audio = audio_event(blob.data, blob.mime_type or "")
                if audio is not None:
                    out.append(audio)
            elif part.text:
                log.debug("model text part ignored (audio session): %.80r", part.text)
    if content.output_transcription is not None and content.output_transcription.text:
        out.append(ev.OutputTranscript(clean_text(content.output_transcription.text)))
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
    status = content.interaction_status
    if status in (types.InteractionStatus.IN_PROGRESS, types.InteractionStatus.IDLE):
        # After the turnComplete it travels with: that turn is over, the request may not be.
        out.append(ev.InteractionStatus(status is types.InteractionStatus.IN_PROGRESS))
    return out


def grounding_event(metadata: types.GroundingMetadata) -> ev.Grounding | None:
    """Queries and web sources of a grounded answer (docs/live-protocol.md,
    "Model generations"); None when the frame names neither."""
    queries = tuple(clean_text(q) for q in metadata.web_search_queries or [] if q)
    sources = tuple(
        ev.Source(
            clean_text(chunk.web.title or chunk.web.domain or chunk.web.uri or ""),
            clean_text(chunk.web.uri or ""),
        )
        for chunk in metadata.grounding_chunks or []
        if chunk.web is not None and (chunk.web.uri or chunk.web.title)
    )
    if not queries and not sources:
        return None
    return ev.Grounding(queries, sources)


def audio_event(pcm: bytes, mime_type: str) -> ev.ModelAudio | None:
    """The chunk as the speaker can play it; None (logged) when it cannot be."""
    rate = rate_of(mime_type)
    if rate not in PLAYABLE_RATES:
        log.error("model audio skipped: %s names no playable rate (%d-%d Hz)",
                  ascii(mime_type[:80]), PLAYABLE_RATES.start, PLAYABLE_RATES.stop - 1)  # fmt: skip
        return None
    if len(pcm) % 2:
        log.error("model audio of %d bytes is not whole 16-bit samples: last byte dropped",
                  len(pcm))  # fmt: skip
        pcm = pcm[:-1]
    return ev.ModelAudio(pcm, rate) if pcm else None


def rate_of(mime_type: str) -> int:
    """The sample rate in 'audio/pcm;rate=24000' (the API's default when absent);
    0 when the number is too long to be a rate."""
    match = re.search(r"rate=(\d+)", mime_type)
    if match is None:
        return ev.DEFAULT_OUTPUT_RATE
    digits = match.group(1)
    return int(digits) if len(digits) <= _MAX_RATE_DIGITS else 0


def clean_text(text: str) -> str:
    """`text` with lone surrogates (JSON "\\ud800" escapes) replaced: writable as UTF-8."""
    return _SURROGATE.sub("\ufffd", text)


def clean_value(value: Any) -> Any:
    """clean_text through a JSON value (tool call arguments), keys included."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(k)): clean_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_value(v) for v in value]
    return value
