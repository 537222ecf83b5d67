"""A microphone chunk that carries a second version of itself for the detectors.

The echo canceller gives the session AEC3's output, echo removed and what is
left of it suppressed; the wake and stop words hear better without that
suppression (linear_echo_filter.py). Both versions of a chunk travel together,
so no queue beside the microphone's can fall out of step with it.

    chunk = CapturedChunk.pair(for_session, for_detectors)
    session.send(chunk)                 # it is the session's bytes
    wake_word.process(detector_audio(chunk))
"""

from __future__ import annotations

from collections.abc import Sequence


class CapturedChunk(bytes):
    """The session's audio; `for_detectors` is the same moment for the wake and stop words."""

    for_detectors: bytes

    @classmethod
    def pair(cls, for_session: bytes, for_detectors: bytes) -> CapturedChunk:
        chunk = cls(for_session)
        chunk.for_detectors = for_detectors
        return chunk


def detector_audio(chunk: bytes) -> bytes:
    """What the wake and stop words should hear of `chunk` (the chunk itself if it has
    no second version)."""
    return chunk.for_detectors if isinstance(chunk, CapturedChunk) else chunk


def join(chunks: Sequence[bytes]) -> bytes:
    """Chunks handed over together, both versions kept."""
    if len(chunks) == 1:
        return chunks[0]
    joined = b"".join(chunks)
    if not any(isinstance(chunk, CapturedChunk) for chunk in chunks):
        return joined
    return CapturedChunk.pair(joined, b"".join(detector_audio(chunk) for chunk in chunks))
