"""What the user said while there was no connection to say it to.

During a reconnect the microphone keeps running; its audio waits here and is
sent first on the new connection, so a goAway or a dropped connection costs
the user a short pause, not their words.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from typing import Literal

log = logging.getLogger(__name__)

BYTES_PER_SECOND = 16000 * 2  # 16 kHz, 16-bit mono
# Adjacent small chunks are joined up to this size so the flush takes few frames.
_JOIN_UP_TO = BYTES_PER_SECOND // 2

Kind = Literal["audio", "frame", "text"]


@dataclass
class Outgoing:
    kind: Kind
    data: bytes | str = b""
    mime_type: str = ""


class Outbox:
    """FIFO of pending input, bounded in seconds of audio; only the newest frame is kept."""

    def __init__(self, max_audio_seconds: float = 60.0) -> None:
        self._items: deque[Outgoing] = deque()
        self._audio_bytes = 0
        self._max_audio_bytes = int(max_audio_seconds * BYTES_PER_SECOND)
        self.dropped_audio_bytes = 0

    def __len__(self) -> int:
        return len(self._items)

    @property
    def audio_bytes(self) -> int:
        return self._audio_bytes

    def put(self, item: Outgoing) -> None:
        if item.kind == "frame":
            # A stale picture is worthless once a newer one exists.
            self._items = deque(i for i in self._items if i.kind != "frame")
        last = self._items[-1] if self._items else None
        if (
            item.kind == "audio"
            and last is not None
            and last.kind == "audio"
            and len(last.data) < _JOIN_UP_TO
        ):
            assert isinstance(last.data, bytes) and isinstance(item.data, bytes)
            last.data = last.data + item.data
        else:
            self._items.append(item)
        if item.kind == "audio":
            self._audio_bytes += len(item.data)
            self._trim()

    def _trim(self) -> None:
        while self._audio_bytes > self._max_audio_bytes:
            oldest = next(i for i in self._items if i.kind == "audio")
            excess = self._audio_bytes - self._max_audio_bytes
            cut = min(len(oldest.data), excess + (excess % 2))
            oldest.data = oldest.data[cut:]
            self._audio_bytes -= cut
            if self.dropped_audio_bytes == 0:
                log.warning("reconnect is taking long: dropping the oldest buffered audio")
            self.dropped_audio_bytes += cut
            if not oldest.data:
                self._items.remove(oldest)

    def peek(self) -> Outgoing | None:
        return self._items[0] if self._items else None

    def pop(self) -> None:
        item = self._items.popleft()
        if item.kind == "audio":
            self._audio_bytes -= len(item.data)
