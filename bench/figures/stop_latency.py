"""Figure 10: "stop" said to the running daemon, from the end of the word to a silent speaker.

`speakerd run` over the private PulseAudio server and the emulator (the model
speaks with espeak-ng), `tries` times in each of two cases:

- a ring: a timer set with `ctl say` rings, the conversation over; its sound is a
  steady tone (not the built-in beeps, whose pauses would hide when the ring
  stopped); the room has no echo, as in tests/e2e/test_stop_word.py;
- an answer: echo cancellation on, in the room (the speaker heard by the
  microphone 40 ms later at PulseAudio's 50 %, -18 dB), "stop" said ~2.5 s into a
  long answer, the service's own activity detection deafened (as in
  tests/e2e/test_echo.py) so that the stop word, not a barge-in, stops it.

"stop" (espeak-ng en-us and flite slt, in turn, 1.5x louder, as the e2e test) is
played into the microphone. Both sinks' monitors are recorded by parec (20 ms
latency each, so the two cancel), every read stamped with time.monotonic().
The end of "stop" is the clip's last sample above -40 dBFS, found in the
microphone recording by cross-correlation; the speaker is silent from the
first 20 ms window under -50 dBFS after which it stays under for
SILENT_HOLD_S. `ctl status`'s last_stop (when the daemon acted on the stop)
splits the total into "heard" and "silenced"; the detector's own share of
"heard" is replayed offline (the same clip in 80 ms chunks, 8 phases).

CPU: the daemon's CPU over `cpu_seconds` of a ring with a fan's noise in the
microphone, the stop word listening; then a second daemon, stop_word.enabled:
false, under the same ring.

    python -m bench.figures.stop_latency [--tries 10] [--cpu-seconds 20] [--json out.json]
                                         [--merge]   # into bench/results.json and .md
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.clips import noise
from bench.corpus import Voice, say
from bench.figures.echo import ANSWERS
from bench.procstat import cpu_seconds
from daemon.config.schema import StopWordConfig
from daemon.emulator import EmulatorThread, Turn
from daemon.sim.pulse import PulseAudioHarness
from daemon.sim.speech import concat, silence, speech_bounds, write_wav
from daemon.wakeword.stop_word import StopWordDetector
from tests.e2e.conftest import DaemonProcess, appliance_config, running_daemon, wait_until

ROOT = Path(__file__).resolve().parents[2]
MIC_RATE = 16000
SPEAKER_RATE = 24000
VOICES = (Voice("espeak-ng", "en-us", 150), Voice("flite", "slt", 1.0))
"""The two voices the e2e stop-word test says "stop" in."""
CHUNK = 1280
"""The microphone's 80 ms chunk."""
WINDOW_S = 0.02
SILENT_DBFS = -50.0
SILENT_HOLD_S = 1.0
"""Quiet this long after the last loud window: silent, not a pause between words."""
SETTLE_S = 1.0
"""After the ring starts, before "stop": the detector's 0.3 s warm-up and more."""
ANSWER_INTO_S = 2.5
"""Into the answer before "stop": past the moments the canceller holds after silence."""
ROOM_PERCENT = 50
"""The room's echo level (PulseAudio's cubic scale: -18 dB), as figure 9's room."""
LONG_ANSWER = " ".join(ANSWERS[:3])
MIN_MATCH = 0.5
"""The normalised correlation at which the clip counts as found in the mic recording."""


class StampedRecorder:
    """parec of one sink's monitor; every read is stamped, so any sample's time can be told."""

    def __init__(self, pulse: PulseAudioHarness, device: str, rate: int) -> None:
        self.rate = rate
        self._proc = subprocess.Popen(
            ["parec", f"--device={device}", "--raw", "--format=s16le", f"--rate={rate}",
             "--channels=1", "--latency-msec=20"],
            env=pulse.env(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self._data = bytearray()
        self._stamps: list[tuple[float, int]] = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, name=f"parec-{device}", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        stdout: Any = self._proc.stdout
        while chunk := stdout.read1(4096):
            now = time.monotonic()
            with self._lock:
                self._data += chunk
                self._stamps.append((now, len(self._data) // 2))

    def samples(self) -> np.ndarray:
        with self._lock:
            data = bytes(self._data[: len(self._data) // 2 * 2])
        return np.frombuffer(data, np.int16)

    def index_at(self, when: float) -> int:
        """The sample recorded at time.monotonic() `when` (about; before any: 0)."""
        with self._lock:
            stamps = list(self._stamps)
        before = [n for t, n in stamps if t <= when]
        return before[-1] if before else 0

    def time_of(self, index: int) -> float:
        """When sample `index` arrived: the least delayed read nearby sets the clock."""
        with self._lock:
            stamps = list(self._stamps)
        near = [t - n / self.rate for t, n in stamps if abs(n - index) <= 2 * self.rate]
        return min(near) + index / self.rate

    def close(self) -> None:
        self._proc.terminate()
        self._proc.wait(5)
        self._reader.join(5)


@dataclass(frozen=True)
class StopClip:
    wav: Path
    samples: np.ndarray
    word_end: int
    """Index just after the last sample of "stop" above -40 dBFS."""
    voice: str


def stop_clip(directory: Path, voice: Voice) -> StopClip:
    """ "stop" as the e2e test says it: 0.3 s of silence, the word 1.5x louder, 0.5 s after."""
    word = say("stop", voice).astype(np.float64) * 1.5
    audio = concat(silence(0.3), np.clip(word, -32768, 32767).astype(np.int16), silence(0.5))
    path = write_wav(directory / f"stop-{voice.engine}-{voice.name}.wav", audio)
    return StopClip(path, audio, speech_bounds(audio)[1], voice.label)


def locate(recorded: np.ndarray, clip: np.ndarray) -> tuple[int, float]:
    """Where `clip` starts in `recorded`, and the normalised correlation there."""
    seg, ref = recorded.astype(np.float64), clip.astype(np.float64)
    if len(seg) < len(ref):
        return 0, 0.0
    size = 1 << int(np.ceil(np.log2(len(seg) + len(ref))))
    corr = np.fft.irfft(np.fft.rfft(seg, size) * np.conj(np.fft.rfft(ref, size)), size)
    corr = corr[: len(seg) - len(ref) + 1]
    at = int(np.argmax(corr))
    norm = np.sqrt(np.sum(seg[at : at + len(ref)] ** 2) * np.sum(ref**2)) or 1.0
    return at, float(corr[at] / norm)


def silent_from(samples: np.ndarray, rate: int, start: int) -> int | None:
    """Index (from `start`) of the first 20 ms window under SILENT_DBFS after which every
    window stays under it for SILENT_HOLD_S; None if the speaker did not go silent."""
    width = round(WINDOW_S * rate)
    count = (len(samples) - start) // width
    if count <= 0:
        return None
    windows = samples[start : start + count * width].astype(np.float64).reshape(count, width)
    loud = np.sqrt(np.mean(windows**2, axis=1)) > 32768 * 10 ** (SILENT_DBFS / 20)
    after = int(np.flatnonzero(loud)[-1]) + 1 if loud.any() else 0
    if (count - after) * width < SILENT_HOLD_S * rate:
        return None
    return start + after * width


def say_stop(pulse: PulseAudioHarness, mic: StampedRecorder, speaker: StampedRecorder,
             clip: StopClip) -> dict[str, Any]:  # fmt: skip
    """Say "stop"; when its end reached the microphone and when the speaker went silent."""
    began = time.monotonic()
    mic_from = mic.index_at(began - 0.2)
    pulse.speak_into_mic(clip.wav)
    time.sleep(SILENT_HOLD_S + 1.0)
    at, match = locate(mic.samples()[mic_from:], clip.samples)
    word_end = mic.time_of(mic_from + at + clip.word_end)
    start = speaker.index_at(word_end - 0.3)
    quiet = silent_from(speaker.samples(), speaker.rate, start)
    silent = speaker.time_of(quiet) if quiet is not None else None
    # Silent only before the word ended: an answer's pause the stop fell into; when it
    # would have gone on is unknown, so the try gives no total. Nor without the clip
    # clearly found in what the microphone was fed.
    sounded = silent is not None and silent > word_end and match >= MIN_MATCH
    return {"voice": clip.voice, "match": round(match, 3), "word_end": word_end,
            "sounded_after_word": sounded, "silent": silent,
            "total_ms": 1000 * (silent - word_end) if sounded and silent else None}


def acted_at(daemon: DaemonProcess, before: float | None, clock: float) -> float | None:
    """time.monotonic() at which the daemon acted on a new stop (its last_stop), if it did."""
    last = daemon.status().get("last_stop")
    return None if last is None or last == before else float(last) - clock


def split(row: dict[str, Any], acted: float | None) -> dict[str, Any]:
    if acted is not None:
        row["heard_ms"] = 1000 * (acted - row["word_end"])
        if row["silent"] is not None:
            row["silenced_ms"] = 1000 * (row["silent"] - acted)
    row["stopped"] = acted is not None
    return row


def wait_ringing(daemon: DaemonProcess, emu: EmulatorThread, speaker: StampedRecorder,
                 label: str) -> None:
    """Set a timer by `ctl say` (a one-word answer, so the talk is over when it falls due:
    a ring is held off while the model talks) and wait until its tone sounds."""
    emu.script([Turn(reply="Done.")])  # the model still calls set_timer
    reply = daemon.request({"cmd": "say", "text": f"set a timer for 5 seconds called {label}"})
    assert reply.get("ok"), reply
    wait_until(lambda: (s := daemon.status())["state"] == "ringing"
               and s["session_uptime"] is None, 30, "the timer to ring, the talk over")
    width = round(WINDOW_S * speaker.rate)

    def sounding() -> bool:
        last = speaker.samples()[-width:].astype(np.float64)
        return len(last) == width and np.sqrt(np.mean(last**2)) > 32768 * 10 ** (SILENT_DBFS / 20)

    wait_until(sounding, 10, "the ring's tone at the speaker")
    time.sleep(SETTLE_S)


def ring_config(workdir: Path, emu: EmulatorThread, **sections: Any) -> dict[str, Any]:
    """A steady tone as the alarm sound: its end is the stop's doing, never a pause."""
    t = np.arange(30 * MIC_RATE) / MIC_RATE
    tone = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.15 * np.sin(2 * np.pi * 880 * t)
    ring = write_wav(workdir / "ring.wav", (tone * 32767).astype(np.int16))
    return appliance_config(
        workdir, emu, conversation={"follow_up_seconds": 0.5},
        timers={"announce": False, "ring_seconds": 120, "sound": str(ring), "pause_seconds": 0.2},
        **sections,
    )  # fmt: skip


def ring_cpu(daemon: DaemonProcess, pulse: PulseAudioHarness, emu: EmulatorThread,
             workdir: Path, seconds: float) -> float:  # fmt: skip
    """% of a core the daemon spends over `seconds` of a ring, a fan's noise in the mic."""
    with recorders(pulse) as (_mic, speaker):
        wait_ringing(daemon, emu, speaker, "cpu")
    fan = write_wav(workdir / "fan.wav", noise(seconds))
    before, began = cpu_seconds(daemon.proc.pid), time.monotonic()
    pulse.speak_into_mic(fan)
    spent = cpu_seconds(daemon.proc.pid) - before
    elapsed = time.monotonic() - began
    assert daemon.status()["state"] == "ringing", "the ring stopped while CPU was measured"
    daemon.request({"cmd": "stop"})
    return 100 * spent / elapsed


def during_ring(pulse: PulseAudioHarness, emu: EmulatorThread, workdir: Path,
                clips: list[StopClip], tries: int,
                cpu_window: float) -> tuple[list[dict[str, Any]], dict[str, Any]]:  # fmt: skip
    rows = []
    clock = time.time() - time.monotonic()
    with running_daemon(workdir, pulse, ring_config(workdir, emu)) as daemon, \
            recorders(pulse) as (mic, speaker):  # fmt: skip
        assert daemon.status()["stop_word"] == "ready", daemon.log()[-2000:]
        pulse.speak_into_mic(write_wav(workdir / "hush.wav", silence(0.5)))  # the mic's clock runs
        for index in range(tries):
            wait_ringing(daemon, emu, speaker, "tea")
            assert daemon.status()["stop_word"] == "listening"
            before = daemon.status().get("last_stop")
            row = say_stop(pulse, mic, speaker, clips[index % len(clips)])
            rows.append(split(row, acted_at(daemon, before, clock)))
            if daemon.status()["state"] == "ringing":
                daemon.request({"cmd": "stop"})
            wait_until(lambda: daemon.status()["state"] == "idle", 10, "idle")
        cpu = {"on_pct": ring_cpu(daemon, pulse, emu, workdir, cpu_window)}
    off_dir = workdir / "off"
    off_dir.mkdir()
    config = ring_config(off_dir, emu, stop_word={"enabled": False})
    with running_daemon(off_dir, pulse, config) as daemon:
        assert daemon.status()["stop_word"] == "off"
        cpu["off_pct"] = ring_cpu(daemon, pulse, emu, off_dir, cpu_window)
    return rows, cpu


def over_answer(pulse: PulseAudioHarness, emu: EmulatorThread, workdir: Path,
                clips: list[StopClip], tries: int) -> list[dict[str, Any]]:  # fmt: skip
    rows = []
    clock = time.time() - time.monotonic()
    config = appliance_config(workdir, emu, audio={"echo_cancellation": "on"},
                              conversation={"follow_up_seconds": 1.0})
    with pulse.room(delay_ms=40, volume_percent=ROOM_PERCENT), \
            running_daemon(workdir, pulse, config) as daemon, \
            recorders(pulse) as (mic, speaker):  # fmt: skip
        ask(daemon, emu, "a first answer, to teach the canceller the room")
        daemon.wait_state("idle", timeout=90)
        emu.call(lambda e: setattr(e, "vad_threshold", 30000.0))
        try:
            for index in range(tries):
                ask(daemon, emu, f"question {index + 1}")
                time.sleep(ANSWER_INTO_S)
                before = daemon.status().get("last_stop")
                row = say_stop(pulse, mic, speaker, clips[index % len(clips)])
                rows.append(split(row, acted_at(daemon, before, clock)))
                daemon.wait_state("idle", timeout=90)
        finally:
            emu.call(lambda e: setattr(e, "vad_threshold", 400.0))
        logged = daemon.log().count("stopped talking (stop word)")
    for row in rows:
        row["log_stops"] = logged  # the daemon's own count, to check "stopped" against
    return rows


def ask(daemon: DaemonProcess, emu: EmulatorThread, text: str) -> None:
    emu.script([Turn(reply=LONG_ANSWER, tool_calls=[])])
    before = len(emu.sessions)
    daemon.request({"cmd": "say", "text": text})
    wait_until(lambda: len(emu.sessions) > before, 15, "the session")
    daemon.wait_state("speaking", timeout=30)


@contextmanager
def recorders(pulse: PulseAudioHarness) -> Iterator[tuple[StampedRecorder, StampedRecorder]]:
    with ExitStack() as stack:
        mic = StampedRecorder(pulse, "micfeed.monitor", MIC_RATE)
        stack.callback(mic.close)
        speaker = StampedRecorder(pulse, "speaker.monitor", SPEAKER_RATE)
        stack.callback(speaker.close)
        yield mic, speaker


def decision_delays(clips: list[StopClip], phases: int = 8) -> dict[str, Any]:
    """The detector alone on each clip (after 1 s of silence), fed in 80 ms chunks at
    `phases` offsets: ms from the word's end to the end of the audio the detection
    scored (the model and its sliding window), and to the end of the 80 ms chunk that
    held it (what the daemon waits for before it can score)."""
    detector = StopWordDetector(StopWordConfig(), models_dir=ROOT / "models")
    by_voice: dict[str, dict[str, float]] = {}
    scored, chunked, missed = [], [], 0
    began = time.process_time()
    for clip in clips:
        mine: list[tuple[float, float]] = []
        for phase in range(phases):
            lead = MIC_RATE + phase * CHUNK // phases
            audio = concat(silence(lead / MIC_RATE), clip.samples)
            detector.reset()
            origin = detector.stream_time
            word_end = origin + (lead + clip.word_end) / MIC_RATE
            for start in range(0, len(audio), CHUNK):
                hit = detector.feed(audio[start : start + CHUNK])
                if hit is not None:
                    filled = origin + min(start + CHUNK, len(audio)) / MIC_RATE
                    mine.append((1000 * (hit.time - word_end), 1000 * (filled - word_end)))
                    break
            else:
                missed += 1
        scored += [a for a, _ in mine]
        chunked += [b for _, b in mine]
        if mine:
            by_voice[clip.voice] = {"scored_ms": statistics.median(a for a, _ in mine),
                                    "chunk_ms": statistics.median(b for _, b in mine)}
    detector.close()
    return {
        "scored_ms": statistics.median(scored) if scored else float("nan"),
        "chunk_ms": statistics.median(chunked) if chunked else float("nan"),
        "by_voice": by_voice,
        "missed": missed,
        "replays": len(clips) * phases,
        "cpu_ms_per_replay": 1000 * (time.process_time() - began) / max(1, len(clips) * phases),
    }


def run(tries: int, cpu_window: float, progress: Callable[[str], None] = print) -> dict[str, Any]:
    """Both cases and the CPU pair; every try kept under "ring" and "answer"."""
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="spk-stopbench-") as directory:
        workdir = Path(directory)
        clips = [stop_clip(workdir, voice) for voice in VOICES]
        with PulseAudioHarness() as pulse, EmulatorThread(speech="espeak", speech_pace=2.0) as emu:
            progress(f"stop word: {tries} stops of a ring, then {cpu_window:g} s of CPU with "
                     "and without the stop word")
            (workdir / "ring").mkdir()
            ring, cpu = during_ring(pulse, emu, workdir / "ring", clips, tries, cpu_window)
            progress(f"stop word: {tries} stops of an answer in the room")
            (workdir / "answer").mkdir()
            answer = over_answer(pulse, emu, workdir / "answer", clips, tries)
    return {"ring": ring, "answer": answer, "cpu": cpu, "decision": decision_delays(clips),
            "seconds": round(time.monotonic() - began, 1)}


def figures(result: dict[str, Any]) -> dict[str, list[float]]:
    """The values each bench figure summarises."""

    def values(case: str, key: str) -> list[float]:
        return [row[key] for row in result[case] if row.get(key) is not None]

    cpu = result["cpu"]
    return {
        "stop_ring_silent_ms": values("ring", "total_ms"),
        "stop_ring_heard_ms": values("ring", "heard_ms"),
        "stop_answer_silent_ms": values("answer", "total_ms"),
        "stop_answer_heard_ms": values("answer", "heard_ms"),
        "stop_listening_cpu_pct": [cpu["on_pct"]],
        "stop_off_cpu_pct": [cpu["off_pct"]],
        "stop_cpu_ratio": [cpu["on_pct"] / cpu["off_pct"]],
    }


def note(result: dict[str, Any]) -> str:
    """One line for the bench's notes: what was tried and what missed."""
    parts = []
    for case in ("ring", "answer"):
        rows = result[case]
        parts.append(
            f"{case}: {len(rows)} tries, stopped {sum(r['stopped'] for r in rows)},"
            f" speaker already silent at the word's end {sum(not r['sounded_after_word'] for r in rows)}"
        )
    decision = result["decision"]
    return (
        "Stop word (figure 10): `speakerd run`, \"stop\" in espeak-ng en-us and flite slt in"
        f" turn; {'; '.join(parts)}. Offline, the detector scores the end of \"stop\""
        f" {decision['scored_ms']:.0f} ms after it (median; {decision['chunk_ms']:.0f} ms with"
        " the 80 ms chunk filled). Answers: echo cancellation on, room echo -18 dB. CPU: a ring,"
        " a fan's noise in the microphone, stop word listening vs stop_word.enabled: false."
    )


def render(result: dict[str, Any]) -> str:
    """The table for bench/stop_word.md."""
    rows = ["| Figure | Median | Min | Max | Runs |", "|---|---:|---:|---:|---:|"]
    labels = {
        "stop_ring_silent_ms": "Ring: end of \"stop\" to the speaker silent (ms)",
        "stop_ring_heard_ms": "Ring: end of \"stop\" to the daemon acting on it (ms)",
        "stop_answer_silent_ms": "Answer: end of \"stop\" to the speaker silent (ms)",
        "stop_answer_heard_ms": "Answer: end of \"stop\" to the daemon acting on it (ms)",
        "stop_listening_cpu_pct": "Daemon CPU, a ring, the stop word listening (% core)",
        "stop_off_cpu_pct": "Daemon CPU, the same ring, stop_word.enabled: false (% core)",
        "stop_cpu_ratio": "Ring CPU, listening / off (x)",
    }
    for key, found in figures(result).items():
        if found:
            rows.append(f"| {labels[key]} | {statistics.median(found):.1f} | {min(found):.1f}"
                        f" | {max(found):.1f} | {len(found)} |")
        else:
            rows.append(f"| {labels[key]} | - | - | - | 0 |")
    for case in ("ring", "answer"):
        silenced = [r["silenced_ms"] for r in result[case] if r.get("silenced_ms") is not None]
        if silenced:
            rows.append(f"| {case.capitalize()}: the daemon acting to the speaker silent (ms) |"
                        f" {statistics.median(silenced):.1f} | {min(silenced):.1f} |"
                        f" {max(silenced):.1f} | {len(silenced)} |")
    decision = result["decision"]
    voices = "; ".join(f"{voice} {d['scored_ms']:.0f} ms scored, {d['chunk_ms']:.0f} ms with the"
                       " chunk" for voice, d in decision["by_voice"].items())
    return "\n".join([*rows, "", note(result),
                      f"Offline replays: {decision['replays']}, missed {decision['missed']};"
                      f" by voice: {voices}."])


def merge(result: dict[str, Any]) -> None:
    """Put these figures into bench/results.json (measured on their own, said in a note)
    and render results.md again, as bench.figures.echo does for its own."""
    from bench import report
    from bench.run import add_stop_word

    path = ROOT / "bench" / "results.json"
    results = json.loads(path.read_text())
    results["notes"] = [n for n in results["notes"] if not n.startswith("Stop word (figure 10)")]
    add_stop_word(results, result)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True, check=False).stdout.strip()
    results["notes"][-1] += (f" Measured on its own ({len(result['ring'])} tries each,"
                             f" {time.strftime('%Y-%m-%d %H:%M')}, commit {commit}).")
    report.write(results, path.parent)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.figures.stop_latency",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--tries", type=int, default=10, help="stops in each case")
    parser.add_argument("--cpu-seconds", type=float, default=20.0, help="each CPU window")
    parser.add_argument("--json", type=Path, help="also write every try here")
    parser.add_argument("--merge", action="store_true",
                        help="put the figures into bench/results.json and results.md")
    args = parser.parse_args(argv)
    result = run(args.tries, args.cpu_seconds,
                 progress=lambda m: print(m, file=sys.stderr, flush=True))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    if args.merge:
        merge(result)
    print(render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
