"""A linear echo filter for what the wake and stop words hear over the speaker.

AEC3 (echo_canceller.py) removes the echo and then suppresses what is left of
it; while the speaker is loud its suppressor also damps a voice said over it,
and the wake word said as loud as the model's voice came through 3 times in 10.
This filter only subtracts the echo as a linear filter predicts it from what
the speaker played (a partitioned-block frequency-domain NLMS filter, as in
Speex's MDF), so a voice over the speaker comes through whole, with the echo
some 20 dB down: what a detector needs. The session still gets AEC3's output.

    echo = LinearEchoFilter(bulk_delay_frames=10)
    out = echo.process(far_frame, near_frame)   # 10 ms int16 frames, paired
"""

from __future__ import annotations

import numpy as np

FRAME = 160
"""10 ms at 16 kHz: the frames the echo canceller pairs."""
BLOCK = 2 * FRAME
"""The filter works on two frames at a time (its cost is mostly per call, not per sample);
its output is a frame late."""
PARTITIONS = 15
"""Filter length in blocks past the bulk delay (300 ms: a living room's reverberation)."""
STEP = 0.5
"""NLMS step size, normalised by the speaker's power in each frequency bin."""
SOUNDING_POWER = 30.0**2
"""Mean square below which the speaker is silent: nothing to learn from."""
DOUBLE_TALK_RATIO = 4.0
"""The residual this much louder than the predicted echo, once learned: someone talks
over the speaker, and learning stops for the frame (it would learn the voice)."""
LEARNED_DB = 6.0
"""The filter's smoothed echo reduction from which the double-talk rule applies."""


class LinearEchoFilter:
    """Subtracts the predicted echo from each microphone frame; learns while the speaker
    sounds and nobody talks over it. Not thread-safe: the echo canceller's capture
    side calls it under its lock."""

    def __init__(self, *, bulk_delay_frames: int = 0, partitions: int = PARTITIONS) -> None:
        """`bulk_delay_frames`: far-end frames that reach the microphone no earlier than
        this; the filter covers `partitions` frames after them."""
        self.partitions = partitions
        bins = BLOCK + 1
        self._spectra = np.zeros((2 * partitions, bins), np.complex64)
        """The far end's recent spectra, written twice so a slice is newest-first."""
        self._newest = partitions
        self._weights = np.zeros((partitions, bins), np.complex64)
        self._update = np.zeros((partitions, bins), np.complex64)  # reused each block
        self._power = np.full(bins, 1e4, np.float32)
        self._previous = np.zeros(BLOCK, np.float32)
        self._far_half: np.ndarray | None = None  # the first frame of a block, waiting
        self._near_half: np.ndarray | None = None
        self._out_half = np.zeros(FRAME, np.int16)  # the second frame of the last block
        self._delay = np.zeros((max(0, bulk_delay_frames), FRAME), np.float32)
        self._delay_index = 0
        self._constrain_next = 0
        self.reduction_db = 0.0
        """Smoothed echo reduction over frames with the speaker sounding."""
        self.double_talk = False
        """The last frame's residual was far louder than the echo predicted: a voice over
        the speaker (or a filter that does not know the echo path)."""

    def process(self, far: np.ndarray, near: np.ndarray) -> np.ndarray:
        """One 10 ms far-end frame (what the speaker played, paired) and the microphone's
        frame: the microphone's previous frame with the predicted echo taken out (int16)."""
        far = self._delayed(far.astype(np.float32))
        if self._far_half is None or self._near_half is None:
            self._far_half, self._near_half = far, near
            return self._out_half
        out = self._process_block(np.concatenate((self._far_half, far)),
                                  np.concatenate((self._near_half, near)))
        self._far_half = self._near_half = None
        self._out_half = out[FRAME:]
        return out[:FRAME]

    def _process_block(self, far: np.ndarray, near: np.ndarray) -> np.ndarray:
        near_f = near.astype(np.float32)
        block = np.concatenate((self._previous, far))
        self._previous = far
        self._newest = (self._newest - 1) % self.partitions
        spectrum = np.fft.rfft(block).astype(np.complex64)
        self._spectra[self._newest] = spectrum
        self._spectra[self._newest + self.partitions] = spectrum
        recent = self._spectra[self._newest : self._newest + self.partitions]
        predicted = np.fft.irfft(np.einsum("kb,kb->b", self._weights, recent))[BLOCK:]
        residual = near_f - predicted
        predicted_power = float(predicted @ predicted) / BLOCK
        residual_power = float(residual @ residual) / BLOCK
        self.double_talk = residual_power > DOUBLE_TALK_RATIO * max(predicted_power, 1.0)
        if float(far @ far) / BLOCK >= SOUNDING_POWER:
            self._learn(spectrum, recent, near_f, residual, residual_power)
        return np.clip(residual, -32768, 32767).astype(np.int16)

    def _delayed(self, far: np.ndarray) -> np.ndarray:
        if not len(self._delay):
            return far
        out: np.ndarray = self._delay[self._delay_index].copy()
        self._delay[self._delay_index] = far
        self._delay_index = (self._delay_index + 1) % len(self._delay)
        return out

    def _learn(
        self,
        spectrum: np.ndarray,
        recent: np.ndarray,
        near: np.ndarray,
        residual: np.ndarray,
        residual_power: float,
    ) -> None:
        near_power = float(near @ near) / BLOCK
        self.reduction_db = 0.98 * self.reduction_db + 0.02 * 10 * float(
            np.log10((near_power + 1.0) / (residual_power + 1.0))
        )
        self._power = 0.9 * self._power + 0.1 * (spectrum.real**2 + spectrum.imag**2)
        if self.reduction_db > LEARNED_DB and self.double_talk:
            return
        error = np.fft.rfft(np.concatenate((np.zeros(BLOCK, np.float32), residual)))
        gain = (STEP * error / (self.partitions * self._power + 1e3)).astype(np.complex64)
        update = np.conjugate(recent, out=self._update)
        update *= gain
        self._weights += update
        # Keep one partition a block a causal BLOCK-tap filter (the gradient constraint,
        # taken in turns as MDF does: all of them every block would cost 30 FFTs more).
        k = self._constrain_next
        taps = np.fft.irfft(self._weights[k])
        taps[BLOCK:] = 0.0
        self._weights[k] = np.fft.rfft(taps)
        self._constrain_next = (k + 1) % self.partitions
