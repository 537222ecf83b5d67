"""Self-interruptions in the real-time simulated room: the daemon, its speaker heard by its mic.

`speakerd run` with echo cancellation on, over the private PulseAudio server
whose speaker sink loops back into the microphone (40 ms later at half level),
against the emulator speaking with espeak-ng; nobody speaks. Each answer is
asked with `ctl say`; the emulator's own activity detection (as the service's)
decides whether the model was interrupted by what the microphone sent.

    python -m bench.figures.room_echo --answers 20    # ~5 minutes, real time
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.figures.echo import ANSWERS
from daemon.emulator import EmulatorThread, Turn
from daemon.sim.pulse import PulseAudioHarness
from tests.e2e.conftest import appliance_config, running_daemon, wait_until


def run(answers: int) -> dict[str, Any]:
    began = time.monotonic()
    with (
        PulseAudioHarness() as pulse,
        EmulatorThread(speech="espeak", speech_pace=2.0) as emu,
        tempfile.TemporaryDirectory(prefix="speakerd-room-") as directory,
        pulse.room(delay_ms=40, volume_percent=50),
    ):
        workdir = Path(directory)
        config = appliance_config(workdir, emu, audio={"echo_cancellation": "on"},
                                  conversation={"follow_up_seconds": 1.0})
        with running_daemon(workdir, pulse, config) as daemon:
            for index in range(answers):
                reply = f"{ANSWERS[index % len(ANSWERS)]} {ANSWERS[(index + 3) % len(ANSWERS)]}"
                emu.script([Turn(reply=reply, tool_calls=[])])
                before = len(emu.sessions)
                daemon.request({"cmd": "say", "text": f"question {index + 1}"})
                wait_until(lambda n=before: len(emu.sessions) > n, 15, "the session")
                daemon.wait_state("speaking", timeout=30)
                daemon.wait_state("idle", timeout=90)
            sessions = list(emu.sessions)
    turns = [t for s in sessions for t in s.model_turns]
    return {
        "room_answers": len(turns),
        "room_self_interruptions": sum(t.interrupted for t in turns),
        "room_audio_turns": sum(1 for s in sessions for t in s.user_turns if t.source == "audio"),
        "room_answer_seconds": round(sum(t.audio_bytes_sent for t in turns) / 48000, 1),
        "room_bench_seconds": round(time.monotonic() - began, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.figures.room_echo")
    parser.add_argument("--answers", type=int, default=20)
    args = parser.parse_args(argv)
    print(json.dumps(run(args.answers)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
