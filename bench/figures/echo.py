"""Echo cancellation and the microphone front end, offline in a simulated room.

Model answers (espeak-ng) are played at the default volume through a room
impulse response (daemon.sim.room) into the microphone, 10 ms frame by frame
through the daemon's own EchoCanceller, as the speaker and microphone threads
would hand them over. Measured:

- ERLE with no near-end speech, and the time until it stays above 25 dB;
- self-interruptions: the emulator's own activity detector (the one that
  sends `interrupted`) on what the canceller lets through, over 20 answers;
- the daemon's wake-word detector (both engines) on that output (false fires on the model's
  voice) and on "hey jarvis" said over an answer (10 tries);
- wake-word recall on noisy speech and on a quiet talker, and false accepts on
  ordinary speech, bare against behind noise suppression and gain control, same
  threshold;
- CPU per second of audio of the canceller, of noise suppression and of the
  bare wake-word model.

    python -m bench.figures.echo          # merges its figures into bench/results.json
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from daemon.appliance.mic_routing import WakeWordFeed
from daemon.config.schema import StopWordConfig, WakeWordConfig
from daemon.emulator.activity import EnergyDetector
from daemon.sim import room
from daemon.sim.speech import concat, mix_noise, silence, synthesize
from daemon.wakeword.both_engines import BothEnginesDetector
from daemon.wakeword.detector import WakeWordDetector
from daemon.wakeword.engines import Detector, make_detector
from daemon.wakeword.stop_word import StopWordDetector
from hardware.audio.captured_chunk import detector_audio
from hardware.audio.echo_canceller import EchoCanceller
from hardware.audio.speaker import volume_gain

CHUNK = 1280  # the daemon's microphone chunk: 80 ms
MODELS = Path(__file__).resolve().parents[2] / "models"
WRITTEN_AHEAD = 1600
"""The speaker writes 100 ms before it plays: the device buffer (two 50 ms periods)."""
ERLE_TARGET_DB = 25.0
ANSWERS = [
    "The weather today is sunny with a light breeze from the west and about twenty degrees.",
    "Tomorrow it will rain in the morning, clearing in the afternoon; take an umbrella.",
    "The bicycle was invented in the early nineteenth century as a wooden running machine.",
    "To boil an egg, put it in boiling water for seven minutes, then cool it in cold water.",
    "Your next appointment is on Thursday at three in the afternoon with the dentist.",
    "The capital of Australia is Canberra, which was chosen as a compromise in nineteen oh eight.",
    "I have set a timer for twenty minutes and will ring when it is done.",
    "The living room lamp is now off, and the kitchen light is still on.",
    "Photosynthesis turns light, water and carbon dioxide into sugar and oxygen.",
    "A marathon is forty two kilometres long, a distance fixed at the London games.",
]
WAKE_VARIANTS = [("en-us", 150, 50), ("en-us", 130, 40), ("en-us", 170, 60), ("en-gb", 150, 50),
                 ("en-gb", 140, 70), ("en-us", 160, 30)]
ORDINARY = ["Could you tell me what time the shop closes tonight?",
            "I think we should paint the fence before the weekend.",
            "Jar of jam, harvest time, the jarvis family moved away.",
            "Hey, did you remember to feed the cat this morning?",
            "Service was slow but the food was worth the wait."]


def answer(index: int) -> np.ndarray:
    """A long model answer (~10 s) at the default volume, as the speaker writes it."""
    texts = [ANSWERS[index % len(ANSWERS)], ANSWERS[(index + 3) % len(ANSWERS)]]
    speech = concat(*[concat(synthesize(t, speed=150 + 5 * (index % 4)), silence(0.25))
                      for t in texts])
    return room.clip_int16(speech * volume_gain(80))


CHUNK_SECONDS: list[float] = []
"""Wall time of each process_capture() of an 80 ms chunk while the module ran."""
LEARNED_AFTER_S: list[float] = []
"""Seconds into a clip at which the canceller first said it removes the echo (the
daemon holds the microphone back while the model talks until then)."""


def run_canceller(canceller: EchoCanceller, far: np.ndarray,
                  mic: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Far end and microphone through the canceller chunk by chunk (the speaker writes
    ahead): what the session gets, what the stop word hears and what the wake word
    hears (as the daemon's router picks it for each chunk)."""
    out, heard, woken = [], [], []
    feed = WakeWordFeed()
    played = far[: len(mic) // CHUNK * CHUNK]  # the stream goes on into the next clip
    canceller.far_end(played[:WRITTEN_AHEAD], 16000)
    for start in range(0, len(mic) - CHUNK + 1, CHUNK):
        canceller.far_end(played[start + WRITTEN_AHEAD : start + WRITTEN_AHEAD + CHUNK], 16000)
        began = time.perf_counter()
        learning = not canceller.removes_echo
        cleaned = canceller.process_capture(mic[start : start + CHUNK].tobytes())
        CHUNK_SECONDS.append(time.perf_counter() - began)
        if learning and canceller.removes_echo:
            LEARNED_AFTER_S.append((start + CHUNK) / 16000)
        out.append(np.frombuffer(cleaned, np.int16))
        heard.append(np.frombuffer(detector_audio(cleaned), np.int16))
        woken.append(np.frombuffer(feed(cleaned, detector_audio(cleaned)), np.int16))
    return np.concatenate(out), np.concatenate(heard), np.concatenate(woken)


def peak_score(detector: Detector, audio: np.ndarray, *, over_answer: bool) -> tuple[int, float]:
    """Detections by the daemon's default detector (both engines) and openWakeWord's
    highest hey_jarvis score (after the warm-up) on `audio`, fed frame by frame as the
    daemon does; `over_answer`: judged as while the model talks."""
    detector.reset()
    scores = detector.openwakeword if isinstance(detector, BothEnginesDetector) else detector
    fired, peak = 0, 0.0
    for start in range(0, len(audio) - CHUNK + 1, CHUNK):
        fired += len(detector.feed(audio[start : start + CHUNK], over_answer=over_answer))
        if start >= 18 * CHUNK:  # WARMUP_FRAMES: not judged
            peak = max(peak, scores.last_scores["hey_jarvis"])
    return fired, peak


def stops(detector: StopWordDetector, audio: np.ndarray) -> int:
    """How many times "stop" fired on `audio`, fed chunk by chunk as the daemon does."""
    detector.reset()
    return sum(detector.feed(audio[start : start + CHUNK]) is not None
               for start in range(0, len(audio) - CHUNK + 1, CHUNK))


def said_over(far: np.ndarray, rir: np.ndarray, words: str, index: int,
              ser_db: float) -> np.ndarray:
    """The microphone: an answer's echo, and `words` said over it 3-6 s in, `ser_db`
    louder than the echo (one of WAKE_VARIANTS' voices)."""
    voice, speed, pitch = WAKE_VARIANTS[index % len(WAKE_VARIANTS)]
    echo = room.hear(far, rir, noise_rms=20.0, seed=index)
    phrase = synthesize(words, voice=voice, speed=speed, pitch=pitch).astype(np.float64)
    at = 16000 * (3 + index % 4)
    span = slice(at, at + len(phrase))
    level = np.sqrt(np.mean(echo[span] ** 2) / np.mean(phrase**2)) * 10 ** (ser_db / 20)
    near = np.zeros(len(far))
    near[span] = phrase * level
    return room.clip_int16(echo + near)


def erle_curve(mic: np.ndarray, out: np.ndarray, segment: int = 1600) -> list[tuple[float, float]]:
    """(time, ERLE dB) per 100 ms where the echo is loud enough to measure."""
    points = []
    for start in range(0, len(out) - segment + 1, segment):
        echo = float(np.mean(mic[start : start + segment].astype(np.float64) ** 2))
        left = float(np.mean(out[start : start + segment].astype(np.float64) ** 2)) + 1.0
        if echo > 100.0**2:  # above -50 dBFS
            points.append((start / 16000, 10 * np.log10(echo / left)))
    return points


def converged_at(points: list[tuple[float, float]], target: float) -> float | None:
    """First time from which the 1 s median ERLE stays at or above `target`."""
    times = np.array([t for t, _ in points])
    values = np.array([v for _, v in points])
    for i, t in enumerate(times):
        later = [np.median(values[(times >= s) & (times < s + 1.0)]) for s in times[i:]]
        if all(v >= target for v in later if not np.isnan(v)):
            return float(t)
    return None


def echo_figures(rir: np.ndarray) -> tuple[dict[str, Any], dict[str, Any]]:
    # The module's own work from its first frame: the daemon passes the microphone on
    # as it came (and stays half duplex) for its first SETTLE_SOUND_SECONDS of sound.
    canceller = EchoCanceller(settle_seconds=0)
    detector = make_detector(WakeWordConfig())  # the default: both engines
    stop_detector = StopWordDetector(StopWordConfig(), models_dir=MODELS)
    erles, converge, self_interruptions, bare_interruptions, wake_fires = [], [], 0, 0, 0
    stop_fires, linear_from = 0, None
    own_peaks: list[float] = []
    cpu_aec = audio_s = 0.0
    first_curve: list[tuple[float, float]] = []
    for index in range(20):
        far = concat(answer(index), silence(0.5))
        mic = room.clip_int16(room.hear(far, rir, noise_rms=20.0, seed=index))
        began = time.process_time()
        out, heard, woken = run_canceller(canceller, far, mic)
        cpu_aec += time.process_time() - began
        if linear_from is None and canceller.detectors_hear_linear:
            linear_from = round(audio_s + len(out) / 16000, 1)
        audio_s += len(out) / 16000
        curve = erle_curve(mic, out)
        if index == 0:
            first_curve = curve
            converge.append(converged_at(curve, ERLE_TARGET_DB))
        settled = [v for t, v in curve if index > 0 or t >= (converge[0] or 0.0)]
        erles.append(float(np.median(settled)) if settled else 0.0)
        if any(e.kind == "start" for e in EnergyDetector().feed(out.tobytes())):
            self_interruptions += 1
        if any(e.kind == "start" for e in EnergyDetector().feed(mic.tobytes())):
            bare_interruptions += 1
        fired, peak = peak_score(detector, woken, over_answer=True)  # as the daemon judges it
        wake_fires += fired
        stop_fires += stops(stop_detector, heard)
        own_peaks.append(peak)
    figures = {
        "echo_erle_db": {"median": round(float(np.median(erles)), 1),
                         "min": round(min(erles), 1), "unit": "dB", "runs": len(erles)},
        "echo_convergence_s": converge[0],
        "echo_first_second_erle_db": round(float(np.median([v for t, v in first_curve if t < 1.0])), 1),
        "echo_learned_after_s": LEARNED_AFTER_S[0] if LEARNED_AFTER_S else None,
        "self_interruptions": self_interruptions,
        "self_interruptions_without_aec": bare_interruptions,
        "wake_fires_on_model_voice": wake_fires,
        "stop_fires_on_model_voice": stop_fires,
        "detectors_hear_linear_after_s": linear_from,
        "wake_score_on_model_voice_max": round(max(own_peaks), 4),
        "aec_cpu_ms_per_s": round(1000 * cpu_aec / audio_s, 2),
        "aec_chunk_ms": {"median": round(1000 * float(np.median(CHUNK_SECONDS)), 2),
                         "p99": round(1000 * float(np.percentile(CHUNK_SECONDS, 99)), 2),
                         "max": round(1000 * max(CHUNK_SECONDS), 2), "unit": "ms",
                         "runs": len(CHUNK_SECONDS),
                         "note": "wall time on a shared machine: the max is preemption"},
    }
    # The wake word and "stop" said over an answer (10 tries each), the user's voice at
    # the microphone 6 dB louder than the echo, as loud, and 6 dB softer: what the
    # detectors hear (the linear filter's output once trusted), AEC3's suppressed
    # output as the session gets it, and the bare microphone.
    threshold = WakeWordConfig().threshold
    scores: dict[str, list[float]] = {}
    for ser_db in (6, 0, -6):
        name = f"ser{ser_db}".replace("-", "minus")
        hits = suppressed_hits = bare_hits = default_hits = stop_hits = stop_suppressed = 0
        peaks = []
        for index in range(10):
            far = concat(answer(index), silence(0.5))
            mic = said_over(far, rir, "hey jarvis", index, ser_db)
            out, _, woken = run_canceller(canceller, far, mic)
            fired, peak = peak_score(detector, woken, over_answer=True)  # the daemon's way
            hits += bool(fired)
            default_hits += peak >= threshold  # judged as when idle
            peaks.append(round(peak, 3))
            suppressed_hits += bool(peak_score(detector, out, over_answer=True)[0])
            detector.reset()
            bare_hits += bool(detector.feed(mic, over_answer=True))
            mic = said_over(far, rir, "stop", index, ser_db)
            out, heard, _ = run_canceller(canceller, far, mic)
            stop_hits += stops(stop_detector, heard) > 0
            stop_suppressed += stops(stop_detector, out) > 0
        figures[f"wake_during_playback_{name}"] = hits
        figures[f"wake_during_playback_{name}_default_threshold"] = default_hits
        figures[f"wake_during_playback_{name}_suppressed"] = suppressed_hits
        figures[f"wake_during_playback_{name}_without_aec"] = bare_hits
        figures[f"wake_during_playback_{name}_min_score"] = min(peaks)
        figures[f"stop_during_playback_{name}"] = stop_hits
        figures[f"stop_during_playback_{name}_suppressed"] = stop_suppressed
        scores[name] = peaks
    detail = {"erle_per_answer_db": [round(e, 1) for e in erles],
              "first_answer_erle_curve": [(round(t, 1), round(v, 1)) for t, v in first_curve[::5]],
              "wake_tries": 10,
              "wake_threshold_over_answer": WakeWordConfig().threshold_over_answer,
              "wake_peak_scores_over_answer": scores,
              "wake_peak_scores_on_model_voice": [round(p, 4) for p in own_peaks]}
    return figures, detail


FRONT_ENDS = {
    "bare": None,
    "ns": {"noise_suppression": True},
    "agc": {"auto_gain_control": True},
}
"""The microphone front ends compared: none, WebRTC noise suppression, WebRTC gain control."""


def front_end_figures() -> dict[str, Any]:
    """Wake-word recall and false accepts, bare against behind noise suppression and gain
    control: noisy speech (white noise at 10, 5 and 0 dB SNR) and a quiet talker (30 dB
    down, over the room's noise floor), where gain control could help. One front end
    runs through all the clips of a condition, as the daemon's runs all day."""
    detector = WakeWordDetector(WakeWordConfig())
    positives = [concat(silence(1.0), synthesize("hey jarvis", voice=v, speed=s, pitch=p),
                        silence(1.0)) for v, s, p in WAKE_VARIANTS]
    negatives = [concat(silence(0.5), synthesize(t), silence(0.5)) for t in ORDINARY]
    conditions: dict[str, Any] = {
        f"snr{snr}": (lambda clip, i, snr=snr: mix_noise(clip, snr_db=snr, seed=i))
        for snr in (10, 5, 0)
    }
    conditions["quiet"] = lambda clip, i: room.clip_int16(
        room.hear(clip * 0.03, np.array([1.0]), noise_rms=20.0, seed=i))
    result: dict[str, Any] = {}
    cpu = dict.fromkeys(FRONT_ENDS, 0.0)
    audio = 0.0
    for condition, degrade in conditions.items():
        for name, features in FRONT_ENDS.items():
            front = None
            if features is not None:
                front = EchoCanceller(echo_cancellation=False, process_when_idle=True, **features)
            found = accepts = 0
            for sets, counter in ((positives, "found"), (negatives, "accepts")):
                for i, clip in enumerate(sets):
                    heard = degrade(clip, i)
                    if front is not None:
                        began = time.process_time()
                        heard = np.frombuffer(front.process_capture(heard.tobytes()), np.int16)
                        cpu[name] += time.process_time() - began
                    detector.reset()
                    began = time.process_time()
                    fired = bool(detector.feed(heard))
                    cpu["bare"] += time.process_time() - began
                    if name == "bare":
                        audio += len(heard) / 16000
                    if counter == "found":
                        found += fired
                    else:
                        accepts += fired
            result[f"wake_recall_{condition}_{name}"] = f"{found}/{len(positives)}"
            result[f"false_accepts_{condition}_{name}"] = f"{accepts}/{len(negatives)}"
    runs = len(FRONT_ENDS)
    result["wakeword_cpu_ms_per_s"] = round(1000 * cpu["bare"] / runs / audio, 2)
    for name in FRONT_ENDS:
        if name != "bare":
            result[f"{name}_cpu_ms_per_s"] = round(1000 * cpu[name] / audio, 2)
    return result


def measure() -> tuple[dict[str, Any], dict[str, Any]]:
    rir = room.impulse_response(rt60=0.3, delay_ms=40.0, direct=0.5)
    figures, detail = echo_figures(rir)
    detail["front_end"] = front_end_figures()
    detail["room"] = "synthetic RIR: 40 ms delay, direct path 0.5, RT60 0.3 s; noise floor rms 20"
    detail["load_average"] = os.getloadavg()[0]
    return figures, detail


def add_to(results: dict[str, Any]) -> None:
    """Measure and put the figures into `results` (beside the real-time ones they use)."""
    figures, detail = measure()
    conversation = results["figures"].get("conversation_daemon_cpu_pct", {}).get("median")
    if conversation:  # the canceller's CPU on top of the measured conversation's
        aec_pct = figures["aec_cpu_ms_per_s"] / 10
        figures["aec_only_cpu_ratio_est"] = round((conversation + aec_pct) / conversation, 2)
    flush = results["figures"].get("barge_in_flush_ms", {})
    if flush.get("median") is not None:  # the local part of a barge-in by voice
        chunk = figures["aec_chunk_ms"]
        figures["barge_in_local_ms"] = {
            "median": round(chunk["median"] + flush["median"], 1),
            "p99": round(chunk["p99"] + flush.get("max", flush["median"]), 1),
            "max": round(chunk["max"] + flush.get("max", flush["median"]), 1), "unit": "ms"}
    for key, value in figures.items():
        results["figures"][key] = value if isinstance(value, dict) else {"median": value, "runs": 1}
    results.setdefault("details", {})["echo"] = detail


def main(argv: list[str] | None = None) -> int:
    """Re-measure only these figures into the existing bench/results.json."""
    from bench import report

    path = Path(__file__).resolve().parents[1] / "results.json"
    results = json.loads(path.read_text())
    add_to(results)
    report.write(results, path.parent)
    print(json.dumps(results["figures"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
