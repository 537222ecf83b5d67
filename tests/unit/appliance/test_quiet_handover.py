"""A quiet room costs fewer loop wake-ups: the microphone hands over bigger pieces while
the speech gate is shut, and every chunk at once as soon as anyone may be listening."""

from __future__ import annotations

import asyncio

from daemon.appliance.mic_routing import QUIET_HANDOVER_CHUNKS
from daemon.wakeword.detector import Detection
from tests.unit.appliance.rig import SILENCE, WAKE, Rig


def test_bigger_hand_overs_while_the_gate_is_shut_and_single_chunks_once_it_opens():
    rig = Rig()
    try:
        rig.devices.wake_word.quiet = True
        rig.hear(SILENCE)
        assert rig.devices.microphone.handover_chunks == QUIET_HANDOVER_CHUNKS
        rig.devices.wake_word.quiet = False  # speech: the gate opened
        rig.hear(SILENCE)
        assert rig.devices.microphone.handover_chunks == 1
    finally:
        rig.stop()


def test_a_conversation_opened_without_the_wake_word_gets_every_chunk_at_once():
    """ctl wake in a quiet room: the session must not wait for a 320 ms hand-over."""
    rig = Rig()
    try:
        rig.devices.wake_word.quiet = True
        rig.hear(SILENCE)
        rig.ctl("wake")
        assert rig.appliance.conversation is not None
        assert rig.devices.microphone.handover_chunks == 1
        rig.open_session()
        rig.hear(SILENCE)  # in a conversation the gate's state does not matter
        assert rig.devices.microphone.handover_chunks == 1
    finally:
        rig.stop()


def test_the_wake_word_opens_the_conversation_with_single_chunks():
    rig = Rig()
    try:
        rig.devices.wake_word.quiet = True
        rig.hear(WAKE)
        assert rig.appliance.conversation is not None
        assert rig.devices.microphone.handover_chunks == 1
    finally:
        rig.stop()


def test_a_conversation_opened_while_an_idle_chunk_is_scored_still_gets_single_chunks():
    """`ctl say` lands while the idle route awaits the wake word's scoring: that chunk,
    finished after the conversation opened, must not leave it on quiet hand-overs
    (320 ms pieces delayed "stop" over the answer by up to 240 ms)."""
    rig = Rig()
    try:
        wake_word = rig.devices.wake_word
        wake_word.quiet = True
        scoring = asyncio.Event()
        real_process = wake_word.process

        async def slow_process(chunk: bytes, *, over_answer: bool = False) -> Detection | None:
            await scoring.wait()
            return await real_process(chunk, over_answer=over_answer)

        wake_word.process = slow_process  # type: ignore[method-assign]
        hearing = rig.loop.create_task(rig.appliance.hear(SILENCE))
        rig.settle()
        rig.ctl("wake")
        assert rig.appliance.conversation is not None
        scoring.set()
        rig.settle()
        assert hearing.done()
        wake_word.process = real_process  # type: ignore[method-assign]
        rig.open_session()
        rig.hear(SILENCE)
        assert rig.devices.microphone.handover_chunks == 1
    finally:
        rig.stop()
