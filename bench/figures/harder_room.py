"""Self-interruptions in a harder real-time room: louder echo, other delays, pauses.

One conversation per setting (a long follow-up window), typed questions a
pause apart, so each answer after the first starts after the speaker has been
silent for the pause; the echo level and delay vary; nobody speaks. The
emulator's activity detector starts a turn on 60 ms of sound over -38 dBFS,
as eagerly as the service's: any echo that leaks at that level cuts the answer.

    python -m bench.figures.harder_room --answers 8 --volumes 79 100 126 --delays 10 30 100
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.figures.echo import ANSWERS
from daemon.emulator import EmulatorThread, Turn
from daemon.sim.pulse import PulseAudioHarness
from tests.e2e.conftest import appliance_config, running_daemon


def db_of(volume_percent: int) -> float:
    """PulseAudio's cubic volume scale in dB (100 % is 0 dB, 50 % is -18 dB)."""
    import math

    return round(60 * math.log10(volume_percent / 100), 1)


def run(answers: int, volume: int, delay_ms: int, pause_s: float) -> dict[str, Any]:
    """`answers` answers in one conversation, `pause_s` apart, in a room whose echo comes
    back `delay_ms` late at `volume` % (PulseAudio's scale) of the speaker's level."""
    with (
        PulseAudioHarness() as pulse,
        EmulatorThread(speech="espeak", speech_pace=2.0) as emu,
        tempfile.TemporaryDirectory(prefix="speakerd-room-") as directory,
        pulse.room(delay_ms=delay_ms, volume_percent=volume),
    ):
        config = appliance_config(Path(directory), emu, audio={"echo_cancellation": "on"},
                                  # one conversation for all the answers, however long
                                  conversation={"follow_up_seconds": 120.0, "max_seconds": 3600.0})
        with running_daemon(Path(directory), pulse, config) as daemon:
            for index in range(answers):
                emu.script([Turn(reply=ANSWERS[index % len(ANSWERS)], tool_calls=[])])
                daemon.request({"cmd": "say", "text": f"question {index + 1}"})
                daemon.wait_state("speaking", timeout=30)
                daemon.wait_state("listening", timeout=90)
                time.sleep(pause_s)
            sessions = list(emu.sessions)
    turns = [t for s in sessions for t in s.model_turns]
    return {
        "echo_db": db_of(volume),
        "delay_ms": delay_ms,
        "pause_s": pause_s,
        "answers": len(turns),
        "self_interruptions": sum(t.interrupted for t in turns),
        "cut_after_s": [round(t.audio_bytes_sent / 48000, 2) for t in turns if t.interrupted],
        "sessions": len(sessions),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.figures.harder_room")
    parser.add_argument("--answers", type=int, default=8)
    parser.add_argument("--volumes", type=int, nargs="+", default=[50, 79, 100, 126],
                        help="echo level, PulseAudio %% (50: -18 dB, 79: -6, 100: 0, 126: +6)")
    parser.add_argument("--delays", type=int, nargs="+", default=[10, 30, 100])
    parser.add_argument("--pauses", type=float, nargs="+", default=[2.0, 6.0])
    args = parser.parse_args(argv)
    results = []
    for volume, delay, pause in itertools.product(args.volumes, args.delays, args.pauses):
        result = run(args.answers, volume, delay, pause)
        results.append(result)
        print(json.dumps(result), flush=True)
    total = sum(r["answers"] for r in results)
    cuts = sum(r["self_interruptions"] for r in results)
    print(json.dumps({"answers": total, "self_interruptions": cuts}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
