"""A cheap speech gate: is anything in this 80 ms frame louder than the room's steady sound?

openWakeWord costs the same on silence as on speech; most of a home's day is
silence or a fridge. The gate looks at the energy of ten 8 ms blocks per frame
and compares the loudest with the room's floor, the quietest block of the last
FLOOR_SECONDS (minimum statistics): speech rises and falls by tens of dB between
syllables, a fan or a fridge stays within a few. It judges only whether a frame
is worth scoring; what the model is fed around the gate (the frames it skipped
are replayed when it opens) is the detector's business.

    gate = SpeechGate()
    if gate.is_open(frame):      # 1280 int16 samples
        score(frame)
"""

from __future__ import annotations

from collections import deque

import numpy as np

BLOCKS_PER_FRAME = 10
"""8 ms blocks: short enough to see the gaps between syllables."""
MARGIN_DB = 5.0
"""How far above the floor the loudest block must be.

Steady white noise moves its 8 ms block energy by about +-1 dB, so the
loudest block of a frame stays within ~3 dB of the quietest of two seconds;
the quietest wake word the tests say through noise (10 dB SNR) peaks 15-20 dB
above it (see tests/unit/wakeword/test_gate.py).
"""
FLOOR_SECONDS = 1.0
"""How long the floor remembers a quiet block: longer than any pause inside a sentence
is short, so the floor stays down while someone talks; a fan that starts is
part of the floor this long after."""
HOLD_SECONDS = 1.0
"""How long the gate stays open after the last loud frame.

openWakeWord's score crosses the threshold up to ~0.5 s after the end of the
phrase (see listener.POST_WAKE_LOOKBACK_SECONDS); those frames must be scored
though they may be silent.
"""
STEADY_FRAMES = 3
STEADY_DB = 2.0
"""A sound whose 8 ms blocks stay within this many dB for STEADY_FRAMES frames (240 ms)
is steady: a fan or a hum that just started, not speech. It becomes the floor at once
instead of after FLOOR_SECONDS."""
FRAME_SECONDS = 0.08


class SpeechGate:
    """Open while sound stands out from the room's floor, and HOLD_SECONDS after."""

    def __init__(
        self,
        *,
        margin_db: float = MARGIN_DB,
        floor_seconds: float = FLOOR_SECONDS,
        hold_seconds: float = HOLD_SECONDS,
    ) -> None:
        self.margin_db = margin_db
        self._floor_frames = max(1, round(floor_seconds / FRAME_SECONDS))
        self._hold_frames = round(hold_seconds / FRAME_SECONDS)
        self._lows: deque[float] = deque(maxlen=self._floor_frames)
        self._recent: deque[tuple[float, float]] = deque(maxlen=STEADY_FRAMES)
        self._hold_left = 0
        self.level_db = 0.0
        """The loudest block of the last frame, dB over one LSB (0 dB is digital silence)."""
        self.floor_db = 0.0
        """The room's floor at the last frame, same scale."""

    def is_open(self, frame: np.ndarray) -> bool:
        """Judge one frame (any length that splits into BLOCKS_PER_FRAME blocks)."""
        blocks = frame.astype(np.float32).reshape(BLOCKS_PER_FRAME, -1)
        energy = 10.0 * np.log10(np.einsum("ij,ij->i", blocks, blocks) / blocks.shape[1] + 1.0)
        low, high = float(energy.min()), float(energy.max())
        self._lows.append(low)
        self._recent.append((low, high))
        if len(self._recent) == STEADY_FRAMES and (
            max(h for _, h in self._recent) - min(lo for lo, _ in self._recent) < STEADY_DB
        ):
            self._lows.clear()
            self._lows.append(low)
        self.level_db = high
        self.floor_db = min(self._lows)
        if self.level_db >= self.floor_db + self.margin_db:
            self._hold_left = self._hold_frames
            return True
        if self._hold_left:
            self._hold_left -= 1
            return True
        return False

    def reset(self) -> None:
        """Forget the room: the next frames set the floor afresh."""
        self._lows.clear()
        self._recent.clear()
        self._hold_left = 0
