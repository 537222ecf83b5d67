"""A cheap speech gate: is anything in this 80 ms frame louder than the room's steady sound?

openWakeWord costs the same on silence as on speech; most of a home's day is
silence or a fridge. The gate looks at the energy of ten 8 ms blocks per frame
and compares the loudest with the room's floor, the quietest block of the last
FLOOR_SECONDS (minimum statistics): speech rises and falls by tens of dB between
syllables, a fan or a fridge stays within a few. SpeechGate judges one frame;
GatedFrames adds what the model is owed: an opening is believed only after a
few loud frames, and the frames skipped before it are handed back for replay.

    frames = GatedFrames(SpeechGate(), replay_frames=25)
    if frames.offer(frame):               # 1280 int16 samples
        quiet, held = frames.take()       # replay `quiet`, score `held`, then `frame`

The constants were chosen on espeak-ng "hey jarvis" in ten rooms (bench/figures/
recall.py: white noise down to 0 dB SNR, fans, whispers): with them the gate
changes no detection there, while scoring 31 % of the bench's room mix.
"""

from __future__ import annotations

from collections import deque

import numpy as np

BLOCKS_PER_FRAME = 10
"""8 ms blocks: short enough to see the gaps between syllables."""
MARGIN_DB = 5.0
"""How far above the floor the loudest block must be.

Steady white noise moves its 8 ms block energy by about +-1 dB, so the loudest
block of a frame stays within ~3 dB of the quietest of a second; "hey jarvis"
as loud as the noise (0 dB SNR, which the bare model still catches now and
then) peaks 5-9 dB above it.
"""
FLOOR_SECONDS = 1.0
"""How long the floor remembers a quiet block: longer than the pauses inside a
sentence, so the floor stays down while someone talks."""
HOLD_SECONDS = 1.0
"""How long the gate stays open after the last loud frame.

openWakeWord's score crosses the threshold up to ~0.5 s after the end of the
phrase (see listener.POST_WAKE_LOOKBACK_SECONDS), later in noise, where the
phrase's last syllable may not stand out; those frames must be scored.
"""
STEADY_FRAMES = 2
STEADY_DB = 3.0
"""A sound whose 8 ms blocks stay within this many dB for STEADY_FRAMES frames (160 ms)
is steady: a fan or a hum that just started, not speech. It becomes the floor at once
instead of after FLOOR_SECONDS (and so never gets CONFIRM_FRAMES loud frames)."""
CONFIRM_FRAMES = 3
"""Loud frames after which an opening is believed (speech has one nearly every frame;
a fan that starts is steady, and the floor, after STEADY_FRAMES)."""
MAX_HELD_FRAMES = 40
"""Frames an unconfirmed opening may hold (3 loud frames spread over holds of 1 s)."""
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
        self.loud = False
        """The last frame stood out from the floor (not merely held open)."""

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
        self.loud = self.level_db >= self.floor_db + self.margin_db
        if self.loud:
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


class GatedFrames:
    """The speech gate plus what the model owes the frames it skipped.

    A frame is scored at once while the gate is confirmed open. When it opens,
    it is not believed until CONFIRM_FRAMES frames were loud: a fan switching
    on, a door or a cough shut it again first, and then cost nothing. Until
    then the frames wait (held); once confirmed, take() returns the quiet
    frames before them (to replay into the feature models, REPLAY_FRAMES at
    most) and the held ones (to score, in order, with their own times).
    """

    def __init__(self, gate: SpeechGate, replay_frames: int) -> None:
        self.gate = gate
        self.replay_frames = replay_frames
        self._frames: deque[np.ndarray] = deque(maxlen=replay_frames + MAX_HELD_FRAMES)
        self._held = 0
        self._loud = 0
        self._confirmed = False

    def offer(self, frame: np.ndarray) -> bool:
        """True: score this frame now (after take()); False: it was kept for later."""
        is_open = self.gate.is_open(frame)
        if self._confirmed and is_open:
            return True
        self._confirmed = False
        if not is_open:
            self._held = self._loud = 0  # a blip: the held frames become quiet ones
        else:
            self._loud += self.gate.loud
            if self._loud >= CONFIRM_FRAMES:
                self._confirmed = True
                return True
            self._held += 1
        self._frames.append(frame.copy())
        return False

    @property
    def shut(self) -> bool:
        """The last frame was kept as quiet (not scored, not held for an opening)."""
        return not self._confirmed and self._held == 0

    def keep(self, frame: np.ndarray) -> None:
        """A frame not to be scored now, whatever the gate says: replayed like a quiet one.
        The gate still hears it, so its floor follows the room."""
        self.gate.is_open(frame)
        self._frames.append(frame.copy())
        self._held = self._loud = 0
        self._confirmed = False

    def take(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """(frames to replay, held frames to score), oldest first; both forgotten here."""
        frames = list(self._frames)
        held = min(self._held, len(frames))
        quiet = frames[: len(frames) - held]
        self._frames.clear()
        self._held = self._loud = 0
        return quiet[-self.replay_frames :], frames[len(frames) - held :]

    def reset(self) -> None:
        """Forget the skipped frames and the room."""
        self.clear()
        self.gate.reset()

    def clear(self) -> None:
        """Forget every skipped frame (the stream jumped)."""
        self._frames.clear()
        self._held = self._loud = 0
        self._confirmed = False
