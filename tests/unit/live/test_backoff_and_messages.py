"""Reconnect pacing, and how server frames become events."""

from google.genai import types

from daemon.live.backoff import Backoff
from daemon.live.errors import Recovery
from daemon.live.events import (
    GenerationComplete,
    InputTranscript,
    Interrupted,
    ModelAudio,
    OutputTranscript,
    TurnComplete,
)
from daemon.live.messages import content_events


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_delays_double_up_to_a_cap_and_quota_waits_longer():
    backoff = Backoff(60, clock=Clock(), jitter=lambda: 1.0)
    delays = []
    for _ in range(8):
        backoff.failed(Recovery.RESUME)
        delays.append(backoff.next_delay())
    assert delays == [0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0, 5.0]
    jittered = Backoff(60, clock=Clock())
    jittered.failed(Recovery.RESUME)
    assert 0.8 * 0.2 <= jittered.next_delay() <= 1.2 * 0.2
    quota = Backoff(60, clock=Clock(), jitter=lambda: 1.0)
    quota.failed(Recovery.RESUME_SLOWLY)
    assert quota.next_delay() == 2.0


def test_gives_up_after_the_limit_and_a_healthy_connection_resets_the_clock():
    clock = Clock()
    backoff = Backoff(30, clock=clock, jitter=lambda: 1.0)
    backoff.failed(Recovery.RESUME)
    clock.now += 31
    assert backoff.exhausted()
    backoff.failed(Recovery.RESUME, connection_lived_s=600)
    assert not backoff.exhausted()
    assert backoff.next_delay() == 0.2


def test_a_content_frame_becomes_events_in_wire_order():
    message = types.LiveServerContent(
        input_transcription=types.Transcription(text="lamp on"),
        model_turn=types.Content(
            parts=[
                types.Part(
                    inline_data=types.Blob(data=b"\x01\x02", mime_type="audio/pcm;rate=24000")
                )
            ]
        ),
        output_transcription=types.Transcription(text="Okay"),
        generation_complete=True,
        turn_complete=True,
    )
    usage = types.UsageMetadata(prompt_token_count=3, total_token_count=5)
    assert content_events(message, usage) == [
        InputTranscript("lamp on"),
        ModelAudio(b"\x01\x02", 24000),
        OutputTranscript("Okay"),
        GenerationComplete(),
        TurnComplete({"prompt_token_count": 3, "total_token_count": 5}),
    ]


def test_interrupted_and_an_unusual_rate():
    message = types.LiveServerContent(
        model_turn=types.Content(
            parts=[
                types.Part(
                    inline_data=types.Blob(data=b"\x00\x00", mime_type="audio/pcm;rate=16000")
                )
            ]
        ),
        interrupted=True,
    )
    assert content_events(message) == [ModelAudio(b"\x00\x00", 16000), Interrupted()]
