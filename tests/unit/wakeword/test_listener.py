"""The listener as the capture path uses it: chunks in, detection out, first words kept."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import numpy as np
import pytest

from daemon.appliance.mic_routing import QUIET_HANDOVER_CHUNKS
from daemon.config.schema import Config, WakeWordConfig
from daemon.wakeword.detector import SAMPLE_RATE
from daemon.wakeword.listener import WakeWordListener
from tests.support.speech import concat, silence, speech_bounds, synthesize
from tests.unit.wakeword.conftest import LEAD_SECONDS, Clip

CHUNK_SAMPLES = 640  # 40 ms, what the microphone driver delivers


@pytest.fixture
async def listener() -> AsyncIterator[WakeWordListener]:
    listener = WakeWordListener(WakeWordConfig(models=["hey_jarvis"]))
    await listener.ready()
    yield listener
    listener.close()


def chunks(audio: np.ndarray) -> list[bytes]:
    return [audio[i : i + CHUNK_SAMPLES].tobytes() for i in range(0, len(audio), CHUNK_SAMPLES)]


def trimmed(text: str, voice: str, speed: int) -> np.ndarray:
    speech = synthesize(text, voice=voice, speed=speed)
    start, end = speech_bounds(speech, floor_dbfs=-50)
    return speech[start:end]


@pytest.mark.parametrize(
    ("voice", "speed"), [("en-us", 130), ("en-us", 170), ("en-gb-x-rp", 170), ("en+f3", 150)]
)
async def test_command_said_in_one_breath_reaches_the_conversation_whole(listener, voice, speed):
    """ "hey jarvis turn on the lamp" with no pause: every sample of the command is delivered."""
    wake = trimmed("hey jarvis", voice, speed)
    command = trimmed("turn on the lamp", voice, speed)
    lead = silence(LEAD_SECONDS)
    audio = concat(lead, wake, command, silence(1.0))
    command_start = len(lead) + len(wake)

    detection, fed = None, 0
    for chunk in chunks(audio):
        fed += len(chunk) // 2
        if detection is None:
            detection = await listener.process(chunk)
        else:
            listener.record(chunk)  # the session is opening: keep, don't score
    assert detection is not None and detection.model == "hey_jarvis"

    delivered = np.frombuffer(listener.audio_since_wake(detection), dtype=np.int16)
    start = fed - len(delivered)
    assert start <= command_start, f"lost {(start - command_start) / SAMPLE_RATE:.3f} s"
    assert np.array_equal(delivered, audio[start:fed]), "delivered audio is the stream, in order"
    assert start == round(listener.wake_audio_start(detection) * SAMPLE_RATE)


async def test_detection_time_follows_the_microphone_clock_across_record(listener):
    clip = Clip(synthesize("hey jarvis", voice="en-us", speed=150))
    for chunk in chunks(silence(1.0)):
        assert await listener.process(chunk) is None
    for chunk in chunks(silence(3.0)):  # a conversation was open
        listener.record(chunk)
    found = [d for c in chunks(clip.audio) if (d := await listener.process(c))]
    assert len(found) == 1
    assert 4.0 + clip.speech_end - 0.1 <= found[0].time <= 4.0 + clip.speech_end + 0.6


async def test_recorded_audio_is_never_scored(listener):
    clip = Clip(synthesize("hey jarvis", voice="en-us", speed=150))
    for chunk in chunks(clip.audio):
        listener.record(chunk)
    results = [await listener.process(c) for c in chunks(silence(2.0))]
    assert results == [None] * len(results)
    assert listener.stream_time == pytest.approx(len(clip.audio) / SAMPLE_RATE + 2.0)


async def test_a_second_wake_after_reset_is_detected(listener):
    clip = Clip(synthesize("hey jarvis", voice="en-us", speed=150))
    first = [d for c in chunks(clip.audio) if (d := await listener.process(c))]
    listener.reset()
    second = [d for c in chunks(clip.audio) if (d := await listener.process(c))]
    assert len(first) == len(second) == 1
    assert second[0].time - first[0].time == pytest.approx(len(clip.audio) / SAMPLE_RATE)


async def test_inference_runs_off_the_event_loop(listener):
    """While ten seconds of speech are scored, other tasks on the loop keep running."""
    sentence = synthesize("the weather today is mild with a light breeze", voice="en-us", speed=150)
    speech = concat(*[sentence] * (1 + round(10 * SAMPLE_RATE) // len(sentence)))
    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    ticks_before = ticks
    await listener.process(speech.tobytes())
    ticks_during = ticks - ticks_before
    done.set()
    await task
    assert ticks_during > 1


async def test_accepts_the_whole_config_too():
    listener = WakeWordListener(Config.model_validate({"wake_word": {"models": ["alexa"]}}))
    try:
        detector = await listener.ready()
        assert detector.model_names == ["alexa"]
    finally:
        listener.close()


async def test_odd_sized_chunk_is_a_clear_error(listener):
    with pytest.raises(ValueError, match="not whole 16-bit samples"):
        await listener.process(b"\x00\x00\x00")
    with pytest.raises(ValueError, match="not whole 16-bit samples"):
        listener.record(b"\x00")


async def hand_over_as_the_appliance_does(listener: WakeWordListener, audio: np.ndarray) -> tuple:
    """80 ms chunks joined QUIET_HANDOVER_CHUNKS at a time while the listener is quiet;
    the first detection, the audio it sends first and how many hand-overs there were."""
    waiting: list[bytes] = []
    detection, handovers = None, 0
    for start in range(0, len(audio), 1280):
        waiting.append(audio[start : start + 1280].tobytes())
        if len(waiting) < (QUIET_HANDOVER_CHUNKS if listener.quiet else 1):
            continue
        handovers += 1
        found = await listener.process(b"".join(waiting))
        waiting.clear()
        if found is not None and detection is None:
            detection = found
            return detection, listener.audio_since_wake(detection), handovers
    return detection, b"", handovers


@pytest.mark.parametrize(("voice", "speed"), [("en-us", 150), ("en+f3", 130)])
async def test_bigger_hand_overs_while_quiet_change_no_detection(voice, speed):
    """The wake word after seconds of silence and of a fan: found at the same time with
    the same score, and the same audio goes first, as when every 40 ms chunk is scored."""
    wake = trimmed("hey jarvis", voice, speed)
    command = trimmed("turn on the lamp", voice, speed)
    fan = np.clip(np.random.default_rng(3).normal(0, 300, 3 * SAMPLE_RATE), -32768, 32767)
    audio = concat(silence(3.0), fan.astype(np.int16), silence(0.3), wake, command, silence(1.0))
    results = []
    for batched in (False, True):
        listener = WakeWordListener(WakeWordConfig(models=["hey_jarvis"]))
        await listener.ready()
        try:
            if batched:
                results.append(await hand_over_as_the_appliance_does(listener, audio))
            else:
                found = [d for c in chunks(audio) if (d := await listener.process(c))]
                results.append((found[0], listener.audio_since_wake(found[0]), len(chunks(audio))))
        finally:
            listener.close()
    (every, every_audio, _), (batched_found, batched_audio, handovers) = results
    assert batched_found is not None
    assert (batched_found.time, batched_found.score) == (every.time, every.score)
    assert batched_audio == every_audio[: len(batched_audio)] and batched_audio
    # the six quiet seconds (~75 frames) came 4 frames a hand-over
    assert handovers <= round(batched_found.time * SAMPLE_RATE) // 1280 - 40


async def test_quiet_in_silence_not_while_someone_speaks(listener):
    sentence = trimmed("the weather today is mild with a light breeze", "en-us", 150)
    for chunk in chunks(silence(1.0)):
        await listener.process(chunk)
    assert listener.quiet
    states = []
    for chunk in chunks(sentence):
        await listener.process(chunk)
        states.append(listener.quiet)
    assert not any(states[8:]), "open within the first 320 ms of speech, and all along it"
    for chunk in chunks(silence(2.0)):
        await listener.process(chunk)
    assert listener.quiet


async def test_audio_passed_over_moves_the_clock_and_the_next_answer_is_heard_at_once(listener):
    """Echo cancelled, between answers: kept unscored, yet warm when the model talks again."""
    for chunk in chunks(silence(1.0)):
        assert await listener.process(chunk) is None
    for chunk in chunks(concat(synthesize("what is the time", voice="en-us"), silence(2.0))):
        listener.pass_over(chunk)
    phrase = synthesize("hey jarvis", voice="en-us", speed=150)
    end = speech_bounds(phrase)[1] / SAMPLE_RATE
    started = listener.stream_time
    found = [d for c in chunks(concat(phrase, silence(1.0)))
             if (d := await listener.process(c, over_answer=True))]  # fmt: skip
    assert len(found) == 1
    assert started + end - 0.1 <= found[0].time <= started + end + 0.6
    assert listener.preroll.end_time == pytest.approx(started + len(phrase) / SAMPLE_RATE + 1.0)
