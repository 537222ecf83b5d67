"""The appliance's pins, end to end: serve() in-process over gpiozero mock pins.

The button is pressed by driving its pin (pull-up: pressed = low), the LED and
relays are read back from their pins, and SIGTERM is a real signal to this
process (serve() installs its handler on the test's event loop).
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

from gpiozero.pins.mock import MockPin

from daemon.emulator import EmulatorThread, ToolCall, Turn
from daemon.sim.pulse import PulseAudioHarness
from tests.e2e.conftest import (
    Speech,
    appliance_config,
    async_wait_until,
    in_process_daemon,
)

BUTTON = 23
RED, GREEN, BLUE = 5, 6, 13
BLACK, WHITE = (0, 0, 0), (1, 1, 1)
BLUE_RGB, CYAN, GREEN_RGB = (0, 0, 1), (0, 1, 1), (0, 1, 0)


async def press(pin: MockPin, seconds: float = 0.2) -> None:
    """Push the button (to ground: the pin reads low) and let go."""
    pin.drive_low()
    await asyncio.sleep(seconds)
    pin.drive_high()


async def test_a_press_starts_a_conversation_and_a_second_press_ends_it(
    pulse: PulseAudioHarness, emu: EmulatorThread, workdir: Path
) -> None:
    # A long follow-up window, so only the button can end the conversation.
    config = appliance_config(workdir, emu, conversation={"follow_up_seconds": 60})
    async with in_process_daemon(pulse, config) as daemon:
        button = daemon.pins.pin(BUTTON)
        before = len(emu.sessions)
        await press(button)
        await daemon.wait_state("listening")
        assert len(emu.sessions) == before + 1
        session = emu.sessions[before]
        assert not session.closed

        await press(button)
        await daemon.wait_state("idle")
        await async_wait_until(lambda: session.closed, 5, "the session to close")
        assert session.closed_by == "client"
        assert len(emu.sessions) == before + 1


async def test_holding_the_button_mutes_until_ctl_unmutes(
    pulse: PulseAudioHarness, emu: EmulatorThread, workdir: Path, speech: Speech
) -> None:
    config = appliance_config(workdir, emu)
    async with in_process_daemon(pulse, config) as daemon:
        assert daemon.appliance is not None
        microphone = daemon.appliance.devices.microphone
        await press(daemon.pins.pin(BUTTON), config["button"]["hold_seconds"] + 0.4)
        await daemon.wait_state("muted")
        assert microphone.paused
        assert daemon.appliance.status().muted is True

        before = len(emu.sessions)
        await daemon.speak(pulse, speech.wav())  # the microphone is closed: nobody hears this
        assert daemon.state == "muted"

        code, out = await daemon.ctl("mute", "off")
        assert code == 0, out
        assert daemon.state == "idle"
        assert not microphone.paused
        emu.script([Turn(said="hello", reply="Hello!", tool_calls=[])])
        await daemon.speak(pulse, speech.wav("hello"))
        await async_wait_until(lambda: len(emu.sessions) > before, 10, "a session after unmuting")
        await daemon.wait_state("idle")
        # Only the wake word said after unmuting opened a session: the muted one never did.
        assert len(emu.sessions) == before + 1
        assert emu.sessions[before].transcriptions == ["hello"]


def colour_changes(pins: list[MockPin], merge_seconds: float = 0.01) -> list[tuple[int, ...]]:
    """The colours an RGB LED showed, in order, from its pins' recorded levels.

    Setting a colour drives the three pins one after another; changes closer
    together than `merge_seconds` are one colour change.
    """
    events: list[tuple[float, int, int]] = []
    for index, pin in enumerate(pins):
        at = 0.0
        for change in pin.states[1:]:
            at += change.timestamp
            events.append((at, index, int(change.state)))
    events.sort()
    colour = [int(pin.states[0].state) for pin in pins]
    timeline: list[tuple[float, tuple[int, ...]]] = [(-1.0, tuple(colour))]
    for at, index, level in events:
        colour[index] = level
        if at - timeline[-1][0] < merge_seconds:
            timeline[-1] = (timeline[-1][0], tuple(colour))
        else:
            timeline.append((at, tuple(colour)))
    shown = [c for _, c in timeline]
    return [c for i, c in enumerate(shown) if i == 0 or c != shown[i - 1]]


async def test_the_rgb_led_shows_each_state_of_a_spoken_conversation(
    pulse: PulseAudioHarness, emu: EmulatorThread, workdir: Path, speech: Speech
) -> None:
    config = appliance_config(
        workdir, emu, leds={"kind": "rgb", "pins": {"red": RED, "green": GREEN, "blue": BLUE}}
    )

    def considered_answer(_responses: object) -> str:
        time.sleep(0.5)  # the model takes a moment, as Gemini does (blocks only the emulator)
        return "The lamp is on."

    emu.script([Turn(said="turn on the lamp", reply=considered_answer)])
    async with in_process_daemon(pulse, config) as daemon:
        assert daemon.appliance is not None
        # Connecting takes a moment over a real network (on loopback the white "wake"
        # look would last under the 10 ms the pin recorder can tell apart).
        emu.delay_setup(0.3)
        pins = [daemon.pins.pin(n) for n in (RED, GREEN, BLUE)]
        for pin in pins:
            pin.clear_states()
        await daemon.speak(pulse, speech.wav("turn on the lamp"))
        await daemon.wait_state("idle")
        states = [str(c.new) for c in daemon.appliance.machine.history]
        shown = colour_changes(pins)
    # The default looks: idle off, wake white, listening blue, thinking pulsing
    # cyan (a slow cyan/off blink on pins without PWM), speaking green.
    thinking = [
        c for i, c in enumerate(shown)
        if not (c == BLACK and 0 < i < len(shown) - 1 and shown[i - 1] == shown[i + 1] == CYAN)
    ]  # fmt: skip
    expected = [BLACK, WHITE, BLUE_RGB, CYAN, GREEN_RGB, BLUE_RGB, BLACK]
    assert thinking == expected, f"LED showed {shown} for states {states}"


async def test_sigterm_mid_answer_exits_0_with_every_relay_in_its_safe_state(
    pulse: PulseAudioHarness, emu: EmulatorThread, workdir: Path
) -> None:
    relays = [
        {"name": "lamp", "pin": 17},  # safe: off, pin low
        {"name": "heater", "pin": 22, "active_high": False},  # safe: off, pin high
        {"name": "pump", "pin": 24, "safe_state": "on"},  # safe: on, pin high
        {"name": "door", "pin": 27, "initial": "on"},  # safe: off, pin low
    ]
    config = appliance_config(workdir, emu, relays=relays)
    emu.script([
        Turn(
            tool_calls=[
                ToolCall("set_relay", {"name": "lamp", "state": "on"}),
                ToolCall("set_relay", {"name": "heater", "state": "on"}),
            ],
            reply="The lamp and the heater are on now. " * 4,
        )
    ])  # fmt: skip
    async with in_process_daemon(pulse, config) as daemon:
        assert daemon.appliance is not None
        appliance = daemon.appliance
        await appliance.say("lamp and heater on please")
        await daemon.wait_state("speaking")
        assert appliance.status().relays == {
            "lamp": True, "heater": True, "pump": False, "door": True
        }  # fmt: skip
        os.kill(os.getpid(), signal.SIGTERM)
        assert await daemon.stopped() == 0
        pins = {name: daemon.pins.pin(pin) for name, pin in
                (("lamp", 17), ("heater", 22), ("pump", 24), ("door", 27))}  # fmt: skip
        levels = {name: pin.state for name, pin in pins.items()}
        released = all(pin.function == "input" for pin in pins.values())
    assert levels == {"lamp": False, "heater": True, "pump": True, "door": False}
    assert released
    await async_wait_until(lambda: emu.sessions[-1].closed, 5, "the session to close")
    assert emu.sessions[-1].closed_by == "client"
