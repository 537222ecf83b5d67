"""Figures 2-5: wake latency, wake to stream (and post-wake speech lost), playout, barge-in.

One trial: the wake phrase and a command are played into the microphone in
real time; the emulator hears the command, answers with audio, and halfway
through its answer sends `interrupted` (the "phantom interrupted" fault, so
the timing does not depend on echo). Every figure of the trial is taken from
monotonic stamps: the daemon's (bench.runner) and the emulator's (bench.stage).
"""

from __future__ import annotations

import re
import socket
import ssl
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy import signal

from bench.clips import WakeClip
from bench.stage import Stage
from daemon.emulator import Turn
from daemon.wakeword.listener import POST_WAKE_LOOKBACK_SECONDS

RATE = 16000
REPLY = "Sure. The lamp in the living room is on now, and the kitchen light stays off."
BLOCK = RATE // 100  # 10 ms: the resolution of "speech lost"


def run_trials(stage: Stage, config_name: str, clip_wav: Path, trials: int) -> list[dict[str, Any]]:
    """Play the wake clip `trials` times; the time window and session of each."""
    windows: list[dict[str, Any]] = []
    for _ in range(trials):
        index = len(stage.sessions)
        stage.emulator.clear_script()
        stage.emulator.script([Turn(said="turn on the lamp", reply=REPLY, tool_calls=[])])
        stage.emulator.send_interrupted(when="mid_turn")
        began = time.monotonic()
        stage.pulse.speak_into_mic(clip_wav)
        window: dict[str, Any] = {"began": began, "session": index, "error": None}
        try:
            stage.wait_for(lambda i=index: len(stage.sessions) > i
                           and stage.sessions[i].marks["interrupted"], 20, "the interruption")
            time.sleep(0.5)  # let the speaker stop and drain
        except TimeoutError as exc:
            window["error"] = str(exc)
        stage.control(config_name, "stop")
        if len(stage.sessions) > index:
            stage.wait_for(lambda i=index: stage.sessions[i].closed, 10, "the session to close")
        window["ended"] = time.monotonic()
        windows.append(window)
        stage.emulator.faults.clear()
        time.sleep(2.0)  # the detector's warm-up after a conversation, and its refractory time
    return windows


def tls_connect_ms(host: str, port: int, ca_file: Path, runs: int = 7) -> list[float]:
    """TCP connect + TLS handshake to the emulator, from this process, with a ready context."""
    context = ssl.create_default_context(cafile=str(ca_file))
    times = []
    for _ in range(runs):
        began = time.monotonic()
        with socket.create_connection((host, port)) as raw, context.wrap_socket(
            raw, server_hostname=host
        ):
            times.append((time.monotonic() - began) * 1000)
        time.sleep(0.05)
    return times


def locate(received: np.ndarray, clip: np.ndarray) -> tuple[int, float]:
    """Where in `clip` the received audio starts (may be negative), and the match quality."""
    pad = RATE  # the microphone heard silence before the clip started
    padded = np.concatenate((np.zeros(pad), clip.astype(np.float64)))
    piece = received[: min(len(received), RATE)].astype(np.float64)
    if not np.any(piece):
        return 0, 0.0
    corr = signal.correlate(padded, piece, mode="valid", method="fft")
    energy = np.sqrt(np.maximum(np.convolve(padded**2, np.ones(len(piece)), mode="valid"), 1e-9))
    score = corr / (energy * np.linalg.norm(piece))
    best = int(np.argmax(score))
    return best - pad, float(score[best])


def speech_lost_ms(received: np.ndarray, clip: np.ndarray, offset: int, start: int, end: int) -> float:
    """Milliseconds of clip[start:end] that did not reach the model intact and in place."""
    lost = 0
    for k in range(start, end - BLOCK + 1, BLOCK):
        i = k - offset
        sent = clip[k : k + BLOCK].astype(np.float64)
        if i < 0 or i + BLOCK > len(received):
            lost += 1
            continue
        got = received[i : i + BLOCK].astype(np.float64)
        error = np.sqrt(np.mean((got - sent) ** 2))
        if error > 0.1 * np.sqrt(np.mean(sent**2)) + 30:
            lost += 1
    return lost * 1000 * BLOCK / RATE


def _first(items: list[Any], after: float, key: Any = lambda x: x) -> Any:
    for item in items:
        if key(item) >= after:
            return item
    return None


def analyse(events: dict[str, Any], sessions: list[Any], windows: list[dict[str, Any]],
            clip: WakeClip) -> list[dict[str, Any]]:
    """Per trial: every figure in ms (None where the trial did not get that far)."""
    logs = [(t, name, msg) for t, name, msg in events["logs"]]
    writes = events["writes"]
    trials = []
    for window in windows:
        trial: dict[str, Any] = {"error": window["error"]}
        trials.append(trial)
        inside = [e for e in logs if window["began"] <= e[0] <= window["ended"]]
        detections = [e for e in inside if e[1] == "speakerd.timeline"
                      and e[2].startswith("wake word")]
        if not detections or window["session"] >= len(sessions):
            trial["error"] = trial["error"] or "no wake-word detection"
            continue
        detected = detections[0][0]
        record = sessions[window["session"]]
        marks = record.marks
        received = np.frombuffer(bytes(record.audio), dtype="<i2")
        offset, match = locate(received, clip.samples)
        trial["alignment_score"] = round(match, 4)
        # The first audio sent starts POST_WAKE_LOOKBACK_SECONDS before the detection
        # (stream clock), so where it falls in the clip says when the detection came.
        trial["wake_latency_ms"] = (POST_WAKE_LOOKBACK_SECONDS - (clip.wake_end - offset) / RATE) * 1000
        trial["post_wake_lost_ms"] = speech_lost_ms(received, clip.samples, offset,
                                                    clip.wake_end, clip.command_end)
        if "first_audio" in marks:
            trial["wake_to_stream_ms"] = (marks["first_audio"] - detected) * 1000
            trial["detect_to_ws_open_ms"] = (marks["ws_open"] - detected) * 1000
            trial["ws_open_to_setup_ms"] = (marks["setup_complete"] - marks["ws_open"]) * 1000
            trial["setup_to_first_audio_ms"] = (marks["first_audio"] - marks["setup_complete"]) * 1000
        if marks["model_audio"]:
            sent = marks["model_audio"][0]
            write = _first(writes, sent, key=lambda w: w[0])
            if write is not None:
                trial["playout_ms"] = (write[0] - sent) * 1000
        if marks["interrupted"]:
            trial.update(_barge_in(marks["interrupted"][0], inside, writes,
                                   _bytes_per_second(events["marks"])))
    return trials


def _bytes_per_second(marks: dict[str, Any]) -> int:
    """Of the speaker stream, from the format the runner noted (e.g. rate=24000, channels=1)."""
    found = re.search(r"rate=(\d+), channels=(\d+)", str(marks.get("speaker_format")))
    return int(found[1]) * int(found[2]) * 2 if found else 48000


def _barge_in(sent: float, logs: list[tuple[float, str, str]],
              writes: list[list[float]], bytes_per_second: int) -> dict[str, Any]:
    """When the daemon stopped writing after `interrupted`, and what the device still held.

    Flushed = the end of the last write of the burst still running when the
    interruption arrived (the writer finishes the block in hand, then drops the
    rest); if the writer was between blocks, the moment the daemon handled it.
    """
    result: dict[str, Any] = {}
    handled = _first([e for e in logs if e[2].startswith("interrupted")], sent,
                     key=lambda e: e[0])
    if handled is None:
        return result
    result["interrupted_transit_ms"] = (handled[0] - sent) * 1000
    after = [w for w in writes if sent <= w[0] <= handled[0] + 0.1]
    flushed = max([handled[0]] + [w[1] for w in after])
    result["barge_in_flush_ms"] = (flushed - sent) * 1000
    result["writes_after_handled"] = sum(1 for w in after if w[0] > handled[0] + 0.001)
    # Audio handed to the device but not yet due to be heard: no flush can recall it.
    burst = [w for w in writes if w[0] <= sent]
    if burst:
        began = burst[-1][0]
        for previous, current in zip(reversed(burst[:-1]), reversed(burst), strict=False):
            if current[0] - previous[1] > 0.5:
                break
            began = previous[0]
        written = sum(w[2] for w in writes if began <= w[0] <= flushed)
        result["device_backlog_at_flush_ms"] = max(
            0.0, (written / bytes_per_second - (flushed - began)) * 1000)
    return result
