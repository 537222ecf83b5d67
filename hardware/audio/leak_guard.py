"""Residual-echo check while the echo canceller has not yet found the room.

AEC3 needs a moment after the first sound it ever hears, and again after the
speaker's stream restarts (a new stream plays with another delay), before it
removes the echo: the first few hundred milliseconds of an answer can leak
through, and the service takes the leak for the user talking over the model.
For the first seconds of echo only, each 10 ms capture frame is compared with
the echo the far end could cause: a frame no louder than the far end's recent
peak times the room's echo gain (learned from the raw microphone meanwhile)
is silenced. A voice louder than that echo still passes, so barge-in works
from the start, just not by a voice quieter than the speaker's echo.

    guard = LeakGuard()
    guard.far_frame(energy)                 # each 10 ms far-end frame, in order
    keep = guard.keep(raw_energy, out_energy)  # each capture frame, after the module
"""

from __future__ import annotations

from collections import deque

import numpy as np

FRAME_SECONDS = 0.01
FIRST_SECONDS = 5.0
"""Seconds of far-end sound after start-up during which the check runs (offline the
canceller needs ~4.7 s of the first answer to stay above 25 dB ERLE)."""
RESTART_SECONDS = 2.0
"""The same after the speaker's stream restarted (the delay is found again faster)."""
RESTART_GAP_SECONDS = 1.0
"""A pause this long in the far end's hand-overs means its stream stopped."""
WINDOW_SECONDS = 0.6
"""How far back a far-end frame can still be heard at the microphone (playout and
capture delay plus the room's tail)."""
SOUND_ENERGY = 30.0**2
"""Mean square of a far-end frame that counts as sound (about -61 dBFS)."""
MARGIN_DB = 0.0
"""How far above the predicted echo a frame must be to pass."""
RATIOS_KEPT = 300
ECHO_GAIN_PERCENTILE = 90
MIN_RATIOS = 10
"""Until this many frames of echo were measured the gain is unknown: frames are silenced."""


class LeakGuard:
    """Decides, per capture frame while the canceller converges, whether it may be echo."""

    def __init__(self, *, first_seconds: float = FIRST_SECONDS,
                 restart_seconds: float = RESTART_SECONDS,
                 window_seconds: float = WINDOW_SECONDS, margin_db: float = MARGIN_DB) -> None:
        self._frames_left = round(first_seconds / FRAME_SECONDS)
        self._restart_frames = round(restart_seconds / FRAME_SECONDS)
        self._far: deque[float] = deque(maxlen=max(1, round(window_seconds / FRAME_SECONDS)))
        self._ratios: deque[float] = deque(maxlen=RATIOS_KEPT)
        self._margin = 10 ** (margin_db / 10)
        self.frames_silenced = 0
        """Capture frames silenced as possible echo."""

    @property
    def checking(self) -> bool:
        return self._frames_left > 0

    def restart(self) -> None:
        """The speaker's stream started again: check its first seconds too."""
        self._frames_left = max(self._frames_left, self._restart_frames)
        self._far.clear()

    def far_frame(self, energy: float) -> None:
        """One 10 ms far-end frame's mean square, in the order the module gets them."""
        if self._frames_left <= 0:
            return
        self._far.append(energy)
        if energy >= SOUND_ENERGY:
            self._frames_left -= 1

    def keep(self, raw_energy: float, out_energy: float) -> bool:
        """False: this capture frame (mean squares before and after the module) is no
        louder than the echo could be; silence it."""
        if self._frames_left <= 0 or not self._far:
            return True
        far_peak = max(self._far)
        if far_peak < SOUND_ENERGY:
            return True  # nothing played lately: no echo to fear
        self._ratios.append(raw_energy / far_peak)
        if len(self._ratios) < MIN_RATIOS:
            self.frames_silenced += 1
            return False
        echo_gain = float(np.percentile(self._ratios, ECHO_GAIN_PERCENTILE))
        if out_energy > echo_gain * far_peak * self._margin:
            return True
        self.frames_silenced += 1
        return False
