"""Self-interruptions in the real-time simulated room: the daemon, its speaker heard by its mic.

`speakerd run` with echo cancellation on, over the private PulseAudio server
whose speaker sink loops back into the microphone (40 ms later at half level),
against the emulator speaking with espeak-ng; nobody speaks. Each answer is
asked with `ctl say`; the emulator's own activity detection (as the service's)
decides whether the model was interrupted by what the microphone sent.

    python -m bench.figures.room_echo --answers 20        # ~4 minutes, real time
    python -m bench.figures.room_echo --cpu --answers 4   # CPU with / without, ~2 minutes
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.figures.echo import ANSWERS
from bench.procstat import cpu_seconds
from daemon.emulator import EmulatorThread, Turn
from daemon.sim.pulse import PulseAudioHarness
from tests.e2e.conftest import appliance_config, running_daemon, wait_until


def run(answers: int, echo_cancellation: str = "on", volume: int = 50,
        log_dir: Path | None = None) -> dict[str, Any]:
    """Ask `answers` long answers in the room (echo at `volume` % of the speaker's level,
    PulseAudio's cubic scale: 50 is -18 dB); what the service heard and the daemon's CPU.
    `log_dir`: keep the daemon's log there."""
    began = time.monotonic()
    with (
        PulseAudioHarness() as pulse,
        EmulatorThread(speech="espeak", speech_pace=2.0) as emu,
        tempfile.TemporaryDirectory(prefix="speakerd-room-") as directory,
        pulse.room(delay_ms=40, volume_percent=volume),
    ):
        workdir = Path(directory)
        config = appliance_config(workdir, emu, audio={"echo_cancellation": echo_cancellation},
                                  conversation={"follow_up_seconds": 1.0})
        with running_daemon(workdir, pulse, config) as daemon:
            cpu_before = cpu_seconds(daemon.proc.pid)
            for index in range(answers):
                reply = f"{ANSWERS[index % len(ANSWERS)]} {ANSWERS[(index + 3) % len(ANSWERS)]}"
                emu.script([Turn(reply=reply, tool_calls=[])])
                before = len(emu.sessions)
                daemon.request({"cmd": "say", "text": f"question {index + 1}"})
                wait_until(lambda n=before: len(emu.sessions) > n, 15, "the session")
                daemon.wait_state("speaking", timeout=30)
                daemon.wait_state("idle", timeout=90)
            cpu = cpu_seconds(daemon.proc.pid) - cpu_before
            if log_dir is not None:
                log_dir.mkdir(parents=True, exist_ok=True)
                (log_dir / f"daemon-{int(time.time())}.log").write_text(daemon.log())
            learned = re.search(r"echo is removed .* after ([\d.]+) s of sound", daemon.log())
            sessions = list(emu.sessions)
    turns = [t for s in sessions for t in s.model_turns]
    interrupted_at = [  # (question, seconds of the answer played when it was cut)
        (number, round(t.audio_bytes_sent / 48000, 1))
        for number, s in enumerate(sessions, 1) for t in s.model_turns if t.interrupted
    ]
    return {
        "room_echo_volume_percent": volume,
        "room_answers": len(turns),
        "room_self_interruptions": sum(t.interrupted for t in turns),
        "room_learned_after_s": float(learned.group(1)) if learned else None,
        "room_interrupted_at": interrupted_at,
        "room_audio_turns": sum(1 for s in sessions for t in s.user_turns if t.source == "audio"),
        "room_answer_seconds": round(sum(t.audio_bytes_sent for t in turns) / 48000, 1),
        "room_daemon_cpu_seconds": round(cpu, 2),
        "room_bench_seconds": round(time.monotonic() - began, 1),
    }


def cpu_ratio(answers: int) -> dict[str, Any]:
    """The same answers with echo cancellation and without (half duplex): daemon CPU."""
    on, off = run(answers, "on"), run(answers, "off")
    return {"aec_conversation_cpu_ratio": round(on["room_daemon_cpu_seconds"]
                                                / off["room_daemon_cpu_seconds"], 2),
            "with": on, "without": off}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.figures.room_echo")
    parser.add_argument("--answers", type=int, default=20)
    parser.add_argument("--volume", type=int, default=50, help="echo level, PulseAudio %%")
    parser.add_argument("--log-dir", type=Path, help="keep the daemon's log in this directory")
    parser.add_argument("--cpu", action="store_true",
                        help="instead: the daemon's CPU with and without echo cancellation")
    args = parser.parse_args(argv)
    result = cpu_ratio(args.answers) if args.cpu else run(args.answers, volume=args.volume, log_dir=args.log_dir)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
