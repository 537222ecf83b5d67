"""Talking over the model: with echo cancellation the mic is sent while it talks,
and the wake word said over an answer stops it; without, the mic is half duplex.

The same paths run end to end, in the simulated room, in tests/e2e/test_echo.py.
"""

from __future__ import annotations

import pytest

from daemon.appliance.mic_routing import VOICE_HOLD_SECONDS, WakeWordFeed
from daemon.config.schema import Config
from daemon.core.state import State
from daemon.live.events import ModelAudio, TurnComplete
from daemon.runtime.build import open_echo_canceller, with_barge_in
from hardware.audio.captured_chunk import CapturedChunk
from hardware.audio.echo_canceller import EchoCanceller
from tests.unit.appliance.rig import (
    MUFFLED,
    SILENCE,
    SPEECH,
    STOP,
    WAKE,
    Rig,
    ScriptedEchoCanceller,
)

ANSWER = ModelAudio(bytes(4800), 24000)


def talking_rig(*, echo_cancelled: bool) -> Rig:
    config = with_barge_in(Config(), echo_cancelled)
    rig = Rig(config.model_dump())
    rig.devices.echo_canceller = ScriptedEchoCanceller() if echo_cancelled else None
    rig.hear(WAKE)
    rig.open_session()
    rig.emit(ANSWER)
    assert rig.appliance.machine.state is State.SPEAKING
    return rig


def test_with_echo_cancellation_the_user_is_heard_while_the_model_talks():
    rig = talking_rig(echo_cancelled=True)
    try:
        session = rig.session
        assert session is not None
        sent = len(session.audio)
        rig.hear(SPEECH)
        rig.settle()
        assert len(session.audio) > sent
    finally:
        rig.stop()


def test_without_echo_cancellation_the_mic_is_closed_while_the_model_talks():
    rig = talking_rig(echo_cancelled=False)
    try:
        session = rig.session
        assert session is not None
        sent = len(session.audio)
        rig.hear(SPEECH)
        rig.hear(WAKE)  # nor is the wake word listened for: it would hear the model
        rig.settle()
        assert len(session.audio) == sent
        assert rig.appliance.machine.state is State.SPEAKING
        assert rig.devices.speaker.flushes == 0
    finally:
        rig.stop()


def test_the_wake_word_over_the_answer_stops_it_and_keeps_listening():
    rig = talking_rig(echo_cancelled=True)
    try:
        scored = rig.devices.wake_word.scored
        rig.hear(SILENCE)
        assert rig.devices.wake_word.scored == scored + 1  # the detector runs over the answer
        rig.hear(WAKE)
        assert rig.devices.speaker.flushes == 1
        assert rig.appliance.machine.state is State.LISTENING
        assert rig.appliance.conversation is not None and rig.appliance.conversation.is_open
        rig.emit(ANSWER)  # the rest of the stopped turn is not played
        assert rig.appliance.machine.state is State.LISTENING
        rig.hear(WAKE)  # while listening it is just words for the model: nothing stops
        assert rig.devices.speaker.flushes == 1
        assert rig.appliance.conversation.is_open
    finally:
        rig.stop()


def test_over_the_answer_the_detectors_hear_the_chunks_unsuppressed_version():
    """The session gets AEC3's output (the voice damped to silence here); the wake and
    stop words hear the linear filter's (the voice whole): they act on that."""
    rig = talking_rig(echo_cancelled=True)
    try:
        session = rig.session
        assert session is not None
        rig.hear(CapturedChunk.pair(SILENCE, STOP))
        assert rig.devices.speaker.flushes == 1  # "stop" heard: the answer stopped
        assert session.audio[-1] == SILENCE  # and the session got the suppressed version
    finally:
        rig.stop()
    rig = talking_rig(echo_cancelled=True)
    try:
        rig.hear(CapturedChunk.pair(SILENCE, WAKE))  # AEC3 shows nobody talking: not
        assert rig.devices.speaker.flushes == 0  # scored (the echo's remainder would be)
        rig.hear(CapturedChunk.pair(MUFFLED, WAKE))  # AEC3 damped a voice: it is heard
        assert rig.devices.speaker.flushes == 1
        assert rig.appliance.machine.state is State.LISTENING
    finally:
        rig.stop()


def test_while_the_canceller_is_still_learning_the_room_the_model_is_not_interrupted():
    # The first answer after start-up, or one on a new speaker stream: the model's
    # voice may still come through, so it is half duplex until the canceller has
    # shown it removes the echo; then talking over the model works.
    rig = talking_rig(echo_cancelled=True)
    try:
        assert rig.devices.echo_canceller is not None
        rig.devices.echo_canceller.removes_echo = False
        session = rig.session
        assert session is not None
        sent = len(session.audio)
        scored = rig.devices.wake_word.scored
        rig.hear(SPEECH)
        rig.hear(WAKE)
        rig.settle()
        assert len(session.audio) == sent
        assert rig.devices.wake_word.scored == scored
        assert rig.appliance.machine.state is State.SPEAKING

        rig.devices.echo_canceller.removes_echo = True
        rig.hear(SPEECH)
        rig.settle()
        assert len(session.audio) > sent
        rig.hear(WAKE)
        assert rig.appliance.machine.state is State.LISTENING
    finally:
        rig.stop()


def test_stop_silences_the_rest_of_an_answer_still_playing_after_a_typed_question():
    # `ctl say` while the model talks: the state is thinking (a new question is in the
    # works) but the last answer still sounds; "stop" silences it and drops the reply.
    rig = talking_rig(echo_cancelled=True)
    try:
        rig.ctl("say", "what time is it")
        rig.settle()
        conversation = rig.appliance.conversation
        assert conversation is not None and conversation.model_audible
        assert rig.appliance.machine.state is State.THINKING
        rig.hear(STOP)
        assert rig.devices.speaker.flushes == 1
        assert not conversation.model_audible
        assert rig.appliance.machine.state is State.LISTENING
        rig.emit(ANSWER)  # the reply to the typed question is not played
        assert rig.appliance.machine.state is State.LISTENING
        rig.emit(TurnComplete())
        rig.emit(ANSWER)  # the turn after it is
        assert rig.appliance.machine.state is State.SPEAKING
    finally:
        rig.stop()


def announcing_rig(text: str, *, removes_echo: bool) -> Rig:
    """An echo-cancelled speaker reading an MQTT announcement aloud."""
    rig = Rig(with_barge_in(Config(), True).model_dump())
    rig.devices.echo_canceller = ScriptedEchoCanceller(removes_echo=removes_echo)
    rig.loop.call_soon(rig.appliance.announce, text)  # as the MQTT bridge does
    rig.settle()
    rig.open_session()
    rig.emit(ANSWER)
    return rig


def test_stop_over_an_echo_cancelled_announcement_ends_it():
    rig = announcing_rig("Dinner is ready", removes_echo=True)
    try:
        announcement = rig.appliance.conversation
        assert announcement is not None and announcement.speak_only
        assert rig.appliance.machine.state is State.SPEAKING
        rig.hear(STOP)
        assert not announcement.is_open
        assert rig.devices.speaker.flushes >= 1
        assert rig.appliance.machine.state is State.IDLE
    finally:
        rig.stop()


def test_stop_over_an_announcement_the_canceller_does_not_vouch_for_is_not_listened_for():
    rig = announcing_rig("Stop by the shop on your way home", removes_echo=False)
    try:
        stop_word = rig.devices.stop_word
        assert stop_word is not None
        fed = stop_word.fed
        rig.hear(STOP)
        assert stop_word.fed == fed
        assert rig.appliance.machine.state is State.SPEAKING
    finally:
        rig.stop()


@pytest.mark.parametrize(
    ("setting", "echo_cancelled", "barge_in"),
    [(None, True, True), (None, False, False), (False, True, False), (True, False, True)],
)
def test_barge_in_follows_echo_cancellation_unless_set(setting, echo_cancelled, barge_in):
    config = Config.model_validate({"audio": {"barge_in": setting}})
    assert with_barge_in(config, echo_cancelled).audio.barge_in is barge_in


def test_echo_cancellation_is_on_by_default_and_off_opens_nothing():
    assert isinstance(open_echo_canceller(Config()), EchoCanceller)  # auto by default
    off = Config.model_validate({"audio": {"echo_cancellation": "off"}})
    assert open_echo_canceller(off) is None


def test_an_unknown_echo_cancellation_value_is_refused_by_name():
    with pytest.raises(ValueError, match="echo_cancellation"):
        Config.model_validate({"audio": {"echo_cancellation": "maybe"}})


def test_the_wake_word_hears_the_linear_version_while_aec3_shows_a_voice():
    """From the very first chunk the canceller works on; and after digital silence the
    floor follows a steadily louder room, so its sound does not count as a voice."""
    linear = b"L" * len(MUFFLED)
    feed = WakeWordFeed()
    assert feed(MUFFLED, linear) is linear  # a voice at once: it stands out
    feed = WakeWordFeed()
    for _ in range(40):
        assert feed(SILENCE, linear) is SILENCE  # echo removed, nobody talking
    assert feed(MUFFLED, linear) is linear
    room = b"\x32\x00\xce\xff" * 320  # a steady room at RMS 50
    chunks = round(VOICE_HOLD_SECONDS / 0.04) + 120  # past the hold, the floor caught up
    assert [feed(room, linear) for _ in range(chunks)][-1] is room
