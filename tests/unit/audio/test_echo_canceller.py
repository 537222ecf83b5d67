"""The echo canceller with the real WebRTC library: what it is given, what it removes.

The speaker and microphone run over file-backed ALSA devices; the room is the
offline impulse response of daemon.sim.room. The figures (ERLE, convergence,
self-interruptions, CPU) are measured by the benchmark, not here.
"""

from __future__ import annotations

import asyncio
import threading
import time

import numpy as np

from daemon.config.schema import WakeWordConfig
from daemon.sim import FileBackedAlsa, room
from daemon.sim.speech import concat, silence, synthesize
from daemon.wakeword.detector import WakeWordDetector
from hardware.audio import Microphone, Speaker, volume_gain
from hardware.audio.captured_chunk import detector_audio
from hardware.audio.echo_canceller import SETTLE_SOUND_SECONDS, EchoCanceller
from tests.unit.audio.conftest import rms, tone

CHUNK = 1280  # the daemon's 80 ms microphone chunk
WRITTEN_AHEAD = 1600  # the speaker writes 100 ms before it plays (its device buffer)


def through(canceller: EchoCanceller, far: np.ndarray, mic: np.ndarray) -> np.ndarray:
    """As the threads do it: the speaker writes a block a device buffer before it plays,
    the microphone reads one."""
    out = []
    played = far[: len(mic) // CHUNK * CHUNK]  # the stream goes on into the next clip
    canceller.far_end(played[:WRITTEN_AHEAD], 16000)
    for start in range(0, len(mic) - CHUNK + 1, CHUNK):
        canceller.far_end(played[start + WRITTEN_AHEAD : start + WRITTEN_AHEAD + CHUNK], 16000)
        chunk = mic[start : start + CHUNK].tobytes()
        out.append(np.frombuffer(canceller.process_capture(chunk), np.int16))
    return np.concatenate(out)


def power_db(samples: np.ndarray) -> float:
    return 10 * np.log10(np.mean(samples.astype(np.float64) ** 2) + 1.0)


async def test_the_speaker_hands_over_exactly_what_it_writes(sim_alsa: FileBackedAlsa):
    sim_alsa.add_speaker("sim_speaker")
    given: list[np.ndarray] = []
    rates: set[int] = set()

    def far_end(samples: np.ndarray, rate: int) -> None:
        given.append(samples.copy())
        rates.add(rate)

    speaker = Speaker("sim_speaker", volume=50, device_rate=48000, device_channels=2,
                      far_end=far_end)
    async with speaker:
        speaker.play(tone(300, 0.6, 24000, amplitude=0.8).tobytes())
        speaker.play_sound("chime")  # sounds are part of the echo too
        await asyncio.wait_for(speaker.wait_drained(), 10)
    left = np.frombuffer(sim_alsa.recording("sim_speaker").pcm, np.int16).reshape(-1, 2)[:, 0]
    assert rates == {48000}
    assert np.array_equal(np.concatenate(given), left)  # after the volume, sample for sample
    assert abs(rms(left[4800:9600]) / 32767 - 0.8 / np.sqrt(2) * volume_gain(50)) < 0.01


async def test_microphone_chunks_go_through_it_untouched_while_nothing_plays(
    sim_alsa: FileBackedAlsa,
):
    audio = synthesize("hello there")
    sim_alsa.add_microphone("sim_mic", audio.tobytes())
    canceller = EchoCanceller()
    async with Microphone("sim_mic", chunk_ms=80, lossless=True,
                          processor=canceller.process_capture) as mic:
        chunks = [await asyncio.wait_for(mic.read(), 10) for _ in range(len(audio) // CHUNK)]
        heard = np.frombuffer(b"".join(chunks), np.int16)
        assert np.array_equal(heard, audio[: len(heard)])
        assert canceller.frames_processed == 0  # the idle path does not run the module
        canceller.far_end(tone(300, 0.1, 48000), 48000)  # the speaker played: it runs
        mic.drain()
        # Chunks the capture thread finished before far_end() may still be on their
        # way to the queue (drain() cannot reach them; it reads up to 50 ahead).
        for _ in range(60):
            await asyncio.wait_for(mic.read(), 10)
            if canceller.frames_processed:
                break
    assert canceller.frames_processed >= CHUNK // 160


def test_in_a_room_the_echo_is_removed_and_the_users_voice_is_kept():
    answer = concat(synthesize("The weather today is sunny with a light breeze from the west "
                               "and temperatures around twenty degrees in the afternoon."),
                    synthesize("Tomorrow it will rain in the morning and clear up later."))
    far = concat((answer * volume_gain(80)).astype(np.int16), silence(3.0))
    rir = room.impulse_response(rt60=0.3, delay_ms=40.0)
    echo = room.hear(far, rir, noise_rms=20.0)
    user = synthesize("what about the weekend")
    near = np.zeros(len(far))
    at = len(answer) + 8000  # the user speaks after the answer, while the module still runs
    near[at : at + len(user)] = user
    mic = room.clip_int16(echo + near)

    canceller = EchoCanceller(settle_seconds=0)  # settled: see the settling tests
    out = through(canceller, far, mic)
    second_half = slice(len(answer) // 2, len(answer))
    removed = power_db(mic[second_half]) - power_db(out[second_half])
    assert removed >= 20, f"only {removed:.1f} dB of echo removed after convergence"
    assert canceller.frames_processed == len(out) // 160

    spoken = slice(at, min(at + len(user), len(out)))
    assert abs(power_db(out[spoken]) - power_db(mic[spoken])) < 3  # the user is not muted


def speechlike(seconds: float, seed: int = 1) -> np.ndarray:
    """Noise in bursts (3 a second, half the time sounding): music or a voice at the
    speaker, for the module a sound it must learn the room from."""
    t = np.arange(round(seconds * 16000)) / 16000
    bursts = (np.sin(2 * np.pi * 3 * t) > 0).astype(float)
    return room.clip_int16(np.random.default_rng(seed).normal(0.0, 3000.0, len(t)) * bursts)


def test_a_fresh_canceller_lets_a_voice_through_whole_until_it_has_settled():
    """A freshly loaded AEC3 that has not yet found how much echo the room returns damps
    the near end with it: "hey jarvis" said 3 s into the speaker's sound, with no echo
    path, came out at a third of its level (the wake word did not hear it). Until the
    module has been through SETTLE_SOUND_SECONDS of sound the microphone goes on as it
    came (as with echo cancellation off) and the daemon stays half duplex."""
    voice = synthesize("hey jarvis")
    far = speechlike(3.0 + len(voice) / 16000 + 1.0)
    mic = np.zeros(len(far), np.int16)
    at = 3 * 16000
    mic[at : at + len(voice)] = voice
    canceller = EchoCanceller()
    out = through(canceller, far, mic)
    assert not canceller.settled and not canceller.removes_echo
    assert canceller.frames_processed > 0  # it learns meanwhile
    assert np.array_equal(out, mic[: len(out)]), "the microphone did not come out as it came"

    damping = EchoCanceller(settle_seconds=0)  # the premise: used at once, it damps the voice
    damped = through(damping, far, mic)
    spoken = slice(at, at + len(voice))
    assert power_db(mic[spoken]) - power_db(damped[spoken]) > 6


def test_once_settled_the_microphone_goes_through_the_module():
    far = speechlike(SETTLE_SOUND_SECONDS * 2 + 2.0)  # half of it sounds
    mic = room.clip_int16(
        room.hear(far, room.impulse_response(rt60=0.3, delay_ms=40.0, direct=1.0),
                  noise_rms=20.0))
    canceller = EchoCanceller()
    out = through(canceller, far, mic)
    assert canceller.settled
    last = slice(len(out) - 16000, len(out))
    assert power_db(mic[last]) - power_db(out[last]) >= 15, "the echo was not removed"
    assert canceller.removes_echo


def loud_room(seconds_of_answer: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """An answer at the default volume and its echo about as loud as the speaker."""
    answer = concat(*[synthesize("The weather today is sunny with a light breeze from the "
                                 "west and about twenty degrees.")] * seconds_of_answer)
    far = (answer * volume_gain(80)).astype(np.int16)
    echo = room.hear(far, room.impulse_response(rt60=0.3, delay_ms=40.0, direct=1.0),
                     noise_rms=20.0)
    return far, room.clip_int16(echo)


def test_it_says_it_removes_the_echo_only_once_it_does():
    # Until then the daemon keeps the microphone from the service while the model
    # talks: at the first answer the module knows nothing of the room yet.
    far, mic = loud_room()
    canceller = EchoCanceller(settle_seconds=0)  # settled: see the settling tests
    learned_at = None
    canceller.far_end(far[:WRITTEN_AHEAD], 16000)
    for start in range(0, len(mic) - CHUNK + 1, CHUNK):
        assert canceller.removes_echo == (learned_at is not None)  # stays said once said
        canceller.far_end(far[start + WRITTEN_AHEAD : start + WRITTEN_AHEAD + CHUNK], 16000)
        chunk = mic[start : start + CHUNK]
        out = np.frombuffer(canceller.process_capture(chunk.tobytes()), np.int16)
        if canceller.removes_echo and learned_at is None:
            learned_at = start + CHUNK
            assert power_db(chunk) - power_db(out) >= 10  # and it does remove it then
    assert learned_at is not None, "never judged to remove the echo"
    assert learned_at <= 3 * 16000, f"judged only after {learned_at / 16000:.1f} s"
    assert canceller.erle_db is not None and canceller.erle_db >= 15

    # The speaker's frames come too late for their capture frames: the pairing
    # moves on and the echo leaks while AEC3 finds it again, so it learns again.
    canceller.process_capture(mic[:CHUNK].tobytes())  # what was written ahead
    assert canceller.removes_echo
    canceller.process_capture(mic[CHUNK : 2 * CHUNK].tobytes())
    assert canceller.far_end_late > 0
    assert not canceller.removes_echo

    # A new speaker stream (a reply after a long pause) may play with another delay.
    through(canceller, far, mic)
    assert canceller.removes_echo
    for _ in range(3):
        canceller.process_capture(bytes(2 * CHUNK))  # the capture drains what was written
    time.sleep(0.25)
    canceller.far_end(far[:CHUNK], 16000)
    assert not canceller.removes_echo


def test_with_hardly_any_echo_there_is_nothing_to_learn():
    far, mic = loud_room(1)
    canceller = EchoCanceller(settle_seconds=0)  # settled: see the settling tests
    faint = (mic * 0.002).astype(np.int16)  # a speaker across the room, turned low
    through(canceller, far, faint)
    assert canceller.removes_echo


def test_chunks_that_are_not_whole_frames_lose_no_sample():
    # With every feature off the module passes audio through: what comes out is
    # what went in, shifted by a constant under 10 ms.
    passthrough = EchoCanceller(echo_cancellation=False, high_pass_filter=False,
                                process_when_idle=True)
    audio = synthesize("one two three")
    size = 400  # 25 ms chunks
    out = np.concatenate([
        np.frombuffer(passthrough.process_capture(audio[i : i + size].tobytes()), np.int16)
        for i in range(0, len(audio) - size + 1, size)
    ])
    delay = int(np.flatnonzero(out)[0] - np.flatnonzero(audio)[0])
    assert 0 <= delay < 160
    assert np.array_equal(out[delay:], audio[: len(out) - delay])


def test_the_speaker_idling_on_silence_does_not_wake_the_module():
    # With echo cancellation the speaker's stream keeps running on written silence
    # (a restarted stream has another delay); that silence must not cost the idle path.
    canceller = EchoCanceller(idle_after=0.5)
    mic = synthesize("hello there")[:CHUNK * 4]
    canceller.far_end(np.zeros(480, np.int16), 48000)
    assert canceller.process_capture(mic[:CHUNK].tobytes()) == mic[:CHUNK].tobytes()
    assert canceller.frames_processed == 0
    canceller.far_end(tone(300, 0.02, 48000), 48000)  # sound: the module runs
    canceller.process_capture(mic[CHUNK : 2 * CHUNK].tobytes())
    assert canceller.frames_processed == CHUNK // 160
    canceller.far_end(np.zeros(480, np.int16), 48000)  # the silence right after still counts
    assert canceller.active


class RecordingModule:
    """The real WebRTC module, with the order of what it was given written down."""

    def __init__(self, module: object) -> None:
        self.module = module
        self.calls: list[tuple[str, int]] = []  # ("far", first sample) or ("capture", 0)

    def process_reverse_stream(self, frame: object) -> None:
        self.calls.append(("far", int(np.frombuffer(frame.data, np.int16)[0])))  # type: ignore[attr-defined]
        self.module.process_reverse_stream(frame)  # type: ignore[attr-defined]

    def process_stream(self, frame: object) -> None:
        self.calls.append(("capture", 0))
        self.module.process_stream(frame)  # type: ignore[attr-defined]

    def set_stream_delay_ms(self, delay_ms: int) -> None:
        self.module.set_stream_delay_ms(delay_ms)  # type: ignore[attr-defined]


def recorded_canceller() -> tuple[EchoCanceller, RecordingModule]:
    """A canceller whose WebRTC module writes down what it is given."""
    recorders: list[RecordingModule] = []

    def wrap(module: object) -> RecordingModule:
        recorders.append(RecordingModule(module))
        return recorders[0]

    return EchoCanceller(wrap_module=wrap), recorders[0]


def numbered_frames(first: int, count: int) -> np.ndarray:
    """10 ms frames whose first sample is their number (1, 2, ...)."""
    frames = np.zeros((count, 160), np.int16)
    frames[:, 0] = np.arange(first, first + count)
    return frames.reshape(-1)


def test_the_far_end_reaches_the_module_one_frame_per_capture_frame_in_step():
    # The speaker hands its blocks over in bursts, as its device frees room; the
    # module must see one far-end frame before each capture frame, in order, so
    # the distance between a sound and its echo stays put all reply long (fed as
    # they came, with silence put in whenever the capture got ahead, it moved and
    # AEC3 leaked the echo mid-answer in the real-time room).
    canceller, recorder = recorded_canceller()
    mic = np.zeros(CHUNK, np.int16).tobytes()

    canceller.far_end(numbered_frames(1, 20), 16000)  # a new stream: 200 ms in one burst
    canceller.process_capture(mic)
    canceller.process_capture(mic)
    canceller.far_end(numbered_frames(21, 4), 16000)
    canceller.process_capture(mic)

    kinds = [kind for kind, _ in recorder.calls]
    assert kinds == ["far", "capture"] * 24
    far = [number for kind, number in recorder.calls if kind == "far"]
    lead = [0] * 2  # a new stream starts a little ahead: room for either thread to be late
    assert far == lead + list(range(1, 23))
    assert canceller.far_end_late == 0

    # The microphone's chunk comes early (the sound server delivers two at once):
    # it waits for the speaker's frames that go with it.
    recorder.calls.clear()
    threading.Timer(0.02, canceller.far_end, (numbered_frames(25, 8), 16000)).start()
    canceller.process_capture(mic)
    assert [number for kind, number in recorder.calls if kind == "far"] == [23, 24, *range(25, 31)]
    assert canceller.far_end_late == 0

    # The speaker falls behind for longer (its device underran, or its clock is
    # slower than the microphone's): those capture frames get silence and what it
    # writes next follows on (nothing skipped, nothing repeated).
    recorder.calls.clear()
    canceller.process_capture(mic)
    far = [number for kind, number in recorder.calls if kind == "far"]
    assert far == [31, 32] + [0] * 6
    assert canceller.far_end_late == 6
    canceller.far_end(numbered_frames(33, 8), 16000)
    recorder.calls.clear()
    canceller.process_capture(mic)
    assert [number for kind, number in recorder.calls if kind == "far"] == list(range(33, 41))


def test_what_the_speaker_wrote_while_the_microphone_was_closed_is_not_paired_later():
    # Muted, the microphone is closed while the speaker's stream runs on: had those
    # frames waited, every echo after unmuting would be paired a mute's length late.
    canceller, recorder = recorded_canceller()
    mic = np.zeros(CHUNK, np.int16).tobytes()
    canceller.far_end(numbered_frames(1, 8), 16000)
    canceller.process_capture(mic)
    for first in range(9, 309, 2):  # 3 s with nobody capturing
        canceller.far_end(numbered_frames(first, 2), 16000)
    canceller.process_capture(mic)  # unmuted
    time.sleep(0.25)  # the speaker's next block starts a new stream
    canceller.far_end(numbered_frames(309, 8), 16000)
    recorder.calls.clear()
    canceller.process_capture(mic)
    far = [number for kind, number in recorder.calls if kind == "far"]
    assert far == [0, 0, *range(309, 315)]  # a new stream's lead, then what it wrote since


def test_the_start_of_a_sound_after_a_long_silence_is_not_trusted():
    """The echo path moved while the speaker was silent (a sound server changed its
    latency by 5 ms): AEC3 can only find it again on sound, and may leak at the start of
    the next answer. The canceller does not call that start echo-free, and trusts the
    rest of the answer again (talking over it waits half a second at most)."""
    first = concat(synthesize("The weather today is sunny with a light breeze."), silence(4.0))
    second = synthesize("Tomorrow it will rain in the morning, take an umbrella.")
    far = room.clip_int16(concat(first, second, silence(0.5)) * volume_gain(80))
    moved_at = len(first) // 2  # half way through the silence
    before = room.hear(far[:moved_at], room.impulse_response(delay_ms=30, direct=0.5, seed=1))
    after = room.hear(far, room.impulse_response(delay_ms=35, direct=0.5, seed=1))[moved_at:]
    noise = np.random.default_rng(3).normal(0.0, 20.0, len(far))
    mic = room.clip_int16(np.concatenate([before, after]) + noise)
    canceller = EchoCanceller(idle_after=0.3, settle_seconds=0)
    out, trusted = [], []
    pause_began = len(first) - 4 * 16000
    canceller.far_end(far[:WRITTEN_AHEAD], 16000)
    for start in range(0, len(mic) // CHUNK * CHUNK, CHUNK):
        if start == pause_began // CHUNK * CHUNK + 6 * CHUNK:
            time.sleep(0.35)  # the rest of the pause skips the module, as in real time
        canceller.far_end(far[start + WRITTEN_AHEAD : start + WRITTEN_AHEAD + CHUNK], 16000)
        out.append(np.frombuffer(canceller.process_capture(mic[start : start + CHUNK].tobytes()),
                                 np.int16))
        trusted.append(canceller.removes_echo)
    cleaned = np.concatenate(out)
    assert trusted[len(first) // CHUNK - 3], "it had learned the room on the first answer"
    # What the service would have been sent over the second answer: 60 ms windows.
    sent = [
        power_db(cleaned[at : at + 960]) - 90.3
        for at in range(len(first), len(first) + len(second) - 960, 960)
        if trusted[at // CHUNK]
    ]
    onset = len(first) // CHUNK
    assert not any(trusted[onset : onset + 5]), "the start of the answer was trusted at once"
    assert all(trusted[onset + 10 :]), "talking over the answer waited past its first second"
    assert max(sent) < -50, f"a leak was sent: {max(sent):.0f} dBFS"
    assert canceller.onsets_held == 1


def test_the_daemons_canceller_loads_the_library_at_the_speakers_first_sound():
    """Not at start-up: a speaker that is never spoken to does not carry the library."""
    import subprocess
    import sys
    from pathlib import Path

    script = """
import sys, time
import numpy as np
from hardware.audio.echo_canceller import EchoCanceller, stop_library
canceller = EchoCanceller(load_at_first_sound=True)
mic = np.zeros(1280, np.int16).tobytes()
print("livekit" in sys.modules, canceller.loaded)
canceller.far_end(np.zeros(1600, np.int16), 16000)  # the speaker's stream, silent
print(canceller.process_capture(mic) == mic, canceller.loaded)
canceller.far_end((np.ones(1600) * 3000).astype(np.int16), 16000)  # a sound
for _ in range(1000):
    if canceller.loaded:
        break
    time.sleep(0.01)
print(canceller.loaded, "livekit" in sys.modules)
canceller.process_capture(mic)
print(canceller.frames_processed > 0)
stop_library()
"""
    root = Path(__file__).resolve().parents[3]
    ran = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True,
                         text=True, timeout=60)
    assert ran.stdout.split("\n")[:4] == ["False False", "True False", "True True", "True"], (
        ran.stdout + ran.stderr)


def through_both(canceller: EchoCanceller, far: np.ndarray,
                 mic: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """As `through`: what the session gets, and what the wake and stop words hear."""
    session, heard = [], []
    played = far[: len(mic) // CHUNK * CHUNK]
    canceller.far_end(played[:WRITTEN_AHEAD], 16000)
    for start in range(0, len(mic) - CHUNK + 1, CHUNK):
        canceller.far_end(played[start + WRITTEN_AHEAD : start + WRITTEN_AHEAD + CHUNK], 16000)
        chunk = canceller.process_capture(mic[start : start + CHUNK].tobytes())
        session.append(np.frombuffer(chunk, np.int16))
        heard.append(np.frombuffer(detector_audio(chunk), np.int16))
    return np.concatenate(session), np.concatenate(heard)


def wake_words(audio: np.ndarray) -> int:
    detector = WakeWordDetector(WakeWordConfig())
    return sum(len(detector.feed(audio[start : start + CHUNK], over_answer=True))
               for start in range(0, len(audio) - CHUNK + 1, CHUNK))


def test_the_wake_word_said_under_a_loud_answer_reaches_the_detectors():
    """AEC3's suppressor damps a voice said over a loud answer along with the echo: the
    wake word 6 dB under the echo does not come through it. The detectors hear the
    linear filter's output instead, once it shows it takes the echo out: the voice
    whole, the echo well down, and the model's own voice does not wake it; in step with
    what the session gets, also after the canceller's settling time."""
    rir = room.impulse_response(rt60=0.3, delay_ms=40.0, direct=0.5)
    answer = (concat(
        synthesize("The weather today is sunny with a light breeze from the west and about "
                   "twenty degrees."),
        synthesize("Tomorrow it will rain in the morning, clearing in the afternoon."),
    ) * volume_gain(80)).astype(np.int16)  # fmt: skip
    canceller = EchoCanceller(settle_seconds=2.0)
    far = concat(answer, silence(0.5))
    session, heard = through_both(canceller, far, room.clip_int16(room.hear(far, rir, 20.0)))
    assert canceller.detectors_hear_linear
    assert wake_words(heard) == 0  # the model's own voice
    removed = power_db(room.hear(far, rir)[4 * 16000 :]) - power_db(heard[4 * 16000 :])
    assert removed >= 15, f"the detectors hear the echo only {removed:.1f} dB down"

    echo = room.hear(far, rir, noise_rms=20.0, seed=1)
    phrase = synthesize("hey jarvis").astype(np.float64)
    spoken = slice(3 * 16000, 3 * 16000 + len(phrase))
    near = np.zeros(len(far))
    near[spoken] = phrase * np.sqrt(np.mean(echo[spoken] ** 2) / np.mean(phrase**2)) / 2
    session, heard = through_both(canceller, far, room.clip_int16(echo + near))
    assert wake_words(session) == 0  # the premise: through AEC3's suppressor it is lost
    assert wake_words(heard) == 1
    loudest = int(np.argmax(np.convolve(heard.astype(np.float64) ** 2, np.ones(160))))
    assert spoken.start <= loudest <= spoken.stop + 160, "the detectors hear another moment"
