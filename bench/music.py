"""Music figures: wake word to music down, and what playing costs (CPU, memory).

    python -m bench.music [--trials 7] [--seconds 20]

Over the real-time PulseAudio room and the emulator, with radio from a web
server in this process (a synthesised MP3 at 440 Hz with ICY titles):

- Wake word -> music down: "hey jarvis" is said into the microphone while the
  radio plays; from the moment the appliance hears the wake word (its
  WakeWordHeard event, time.monotonic()) to (a) the speaker's writer mixing
  the music at its ducked gain (the ramp done, stamped by the writer thread:
  what goes to the device) and
  (b) the music's band at the speaker's monitor 14 dB down (what a listener
  hears, plus parec's 20 ms of latency). serve() runs in this process for (a).
- CPU and memory: `speakerd run` as a process, idle then playing, its CPU
  (% of one core) and RSS, ffmpeg's beside it, and the daemon's RSS growth
  over the playing window (the queues are bounded: it should not grow).
- The wake word over the music, in the room (the speaker heard by the
  microphone 18 dB down, 40 ms later), music at its default volume: of
  `--tries`, how many woke the speaker, with echo cancellation on and off.
- A long stream (`--long-seconds`, 30 minutes by default; 0 to leave it out):
  how often the music ran dry at the speaker (its queue, and the device: a block
  written too late), and the RSS growth.

Writes bench/music.md (scripts/bench's report appends it to results.md).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.procstat import cpu_seconds, rss_mb
from daemon.core.events import ApplianceEvent, WakeWordHeard
from daemon.emulator import EmulatorThread
from daemon.sim.pulse import PulseAudioHarness, SpeakerRecorder
from tests.e2e.conftest import Speech, appliance_config, in_process_daemon, running_daemon
from tests.support.media_server import MediaServer

ROOT = Path(__file__).resolve().parent
RATE = 24000
MUSIC_HZ = 440
HEARD_DOWN_DB = 14.0


def band_level(recorder: SpeakerRecorder, seconds: float) -> float:
    pcm = np.frombuffer(recorder.snapshot().pcm, np.int16)[-int(seconds * RATE) :]
    if len(pcm) < 64:
        return 0.0
    spectrum = np.fft.rfft(pcm.astype(np.float64) * np.hanning(len(pcm)))
    freqs = np.fft.rfftfreq(len(pcm), 1 / RATE)
    band = (freqs > MUSIC_HZ - 30) & (freqs < MUSIC_HZ + 30)
    return float(np.sqrt(np.sum(np.abs(spectrum[band]) ** 2)) / len(pcm))


def radio_config(
    workdir: Path, emu: EmulatorThread, radio: MediaServer, volume: int | None = None,
    **sections: Any,
) -> dict[str, Any]:  # fmt: skip
    """The test appliance with one station, "Radio", the server's endless MP3."""
    media: dict[str, Any] = {"stations": [{"name": "Radio", "url": radio.url("live.mp3")}]}
    if volume is not None:
        media["volume"] = volume
    return appliance_config(workdir, emu, media=media, **sections)


async def duck_latency(
    pulse: PulseAudioHarness, emu: EmulatorThread, radio: MediaServer, speech: Speech,
    workdir: Path, trials: int,
) -> dict[str, list[float]]:  # fmt: skip
    config = radio_config(workdir, emu, radio, volume=100)
    mixed: list[float] = []
    heard: list[float] = []
    wav = speech.wav()
    async with in_process_daemon(pulse, config) as daemon:
        appliance = daemon.appliance
        assert appliance is not None and appliance.media is not None
        speaker = appliance.devices.speaker
        woken: list[float] = []

        def listener(event: ApplianceEvent) -> None:
            if isinstance(event, WakeWordHeard):
                woken.append(time.monotonic())

        appliance.listen(listener)
        reply = await appliance.media_command("play", "Radio")
        assert reply.startswith("playing"), reply
        full_gain = speaker.background_gain
        with pulse.record_speaker(RATE) as recorder:
            for _ in range(trials):
                await asyncio.sleep(2.0)  # the music back at its level
                full = band_level(recorder, 0.3)
                before = len(woken)
                saying = asyncio.create_task(daemon.speak(pulse, wav))
                while len(woken) == before:
                    await asyncio.sleep(0.001)
                at = woken[-1]
                target = full_gain * 10 ** (-appliance.config.media.duck_db / 20)
                mix_done = hear_done = None
                while mix_done is None or hear_done is None:
                    now = time.monotonic()
                    done_at = speaker.background_ramp_done_at
                    if mix_done is None and speaker.background_gain <= target * 1.001 and (
                        done_at is not None and done_at > at
                    ):
                        mix_done = done_at - at  # stamped by the writer thread itself
                    if hear_done is None and band_level(recorder, 0.02) < full * 10 ** (
                        -HEARD_DOWN_DB / 20
                    ):
                        hear_done = now - at
                    if now - at > 3.0:
                        break
                    await asyncio.sleep(0.002)
                if mix_done is not None:
                    mixed.append(1000 * mix_done)
                if hear_done is not None:
                    heard.append(1000 * hear_done)
                await saying
                await appliance.stop()  # ends the conversation; the music comes back
                await daemon.wait_state("idle", 10)
        await appliance.media_command("stop")
    return {"mixed": mixed, "heard": heard}


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


def cost(
    pulse: PulseAudioHarness, emu: EmulatorThread, radio: MediaServer, workdir: Path,
    seconds: float,
) -> dict[str, float]:  # fmt: skip
    config = radio_config(workdir, emu, radio)
    with running_daemon(workdir, pulse, config) as daemon:
        pid = daemon.proc.pid
        time.sleep(2.0)
        start, cpu = time.monotonic(), cpu_seconds(pid)
        time.sleep(seconds)
        idle_cpu = 100 * (cpu_seconds(pid) - cpu) / (time.monotonic() - start)
        idle_rss = rss_mb(pid)
        reply = daemon.request({"cmd": "play", "what": "Radio"})
        assert reply.get("ok"), reply
        time.sleep(3.0)
        decoder = children(pid)
        assert decoder, "no ffmpeg process"
        rss_start = rss_mb(pid)
        start, cpu = time.monotonic(), cpu_seconds(pid)
        ffmpeg_cpu = cpu_seconds(decoder[0])
        time.sleep(seconds)
        elapsed = time.monotonic() - start
        playing_cpu = 100 * (cpu_seconds(pid) - cpu) / elapsed
        ffmpeg_share = 100 * (cpu_seconds(decoder[0]) - ffmpeg_cpu) / elapsed
        result = {
            "idle_cpu": idle_cpu,
            "playing_cpu": playing_cpu,
            "ffmpeg_cpu": ffmpeg_share,
            "idle_rss": idle_rss,
            "playing_rss": rss_mb(pid),
            "rss_growth": rss_mb(pid) - rss_start,
            "ffmpeg_rss": rss_mb(decoder[0]),
        }
        daemon.request({"cmd": "stop"})
        return result


async def wake_over_music(
    pulse: PulseAudioHarness, emu: EmulatorThread, radio: MediaServer, speech: Speech,
    workdir: Path, tries: int, echo_cancellation: str,
) -> int:  # fmt: skip
    """How many of `tries` "hey jarvis" said over the radio in the room woke the speaker."""
    config = radio_config(workdir, emu, radio, audio={"echo_cancellation": echo_cancellation},
                          conversation={"follow_up_seconds": 1.0})
    heard = 0
    wav = speech.wav()
    async with in_process_daemon(pulse, config) as daemon:
        appliance = daemon.appliance
        assert appliance is not None and appliance.media is not None
        woken: list[float] = []
        appliance.listen(
            lambda event: woken.append(time.monotonic()) if isinstance(event, WakeWordHeard) else None
        )
        with pulse.room(delay_ms=40, volume_percent=50):
            reply = await appliance.media_command("play", "Radio")
            assert reply.startswith("playing"), reply
            await asyncio.sleep(10.0)  # past the canceller's first seconds of sound
            for _ in range(tries):
                before = len(woken)
                await daemon.speak(pulse, wav)
                await asyncio.sleep(1.0)  # openWakeWord scores up to ~0.5 s after the phrase
                if len(woken) > before:
                    heard += 1
                    await appliance.stop()
                    await daemon.wait_state("idle", 10)
                await asyncio.sleep(2.0)  # the music back at its level
        await appliance.media_command("stop")
    return heard


async def long_stream(
    pulse: PulseAudioHarness, emu: EmulatorThread, radio: MediaServer, workdir: Path,
    seconds: float,
) -> dict[str, float]:  # fmt: skip
    """Play the radio for `seconds`: how often the music ran dry (the speaker's queue,
    and the device: the writer too late), and the RSS growth."""
    config = radio_config(workdir, emu, radio)
    async with in_process_daemon(pulse, config) as daemon:
        appliance = daemon.appliance
        assert appliance is not None and appliance.media is not None
        speaker = appliance.devices.speaker
        reply = await appliance.media_command("play", "Radio")
        assert reply.startswith("playing"), reply
        await asyncio.sleep(5.0)
        rss_start, underruns_start = rss_mb(os.getpid()), speaker.background_underruns
        device_start = speaker.device_underruns
        load_before = os.getloadavg()[0]
        await asyncio.sleep(seconds)
        result = {
            "seconds": seconds,
            "underruns": speaker.background_underruns - underruns_start,
            "device_underruns": speaker.device_underruns - device_start,
            "rss_growth": rss_mb(os.getpid()) - rss_start,
            "still_playing": float(appliance.media.state == "playing"),
            "load": (load_before + os.getloadavg()[0]) / 2,
        }
        await appliance.media_command("stop")
    return result


def summary(values: list[float]) -> str:
    if not values:
        return "- | - | - | 0"
    return f"{statistics.median(values):.0f} | {min(values):.0f} | {max(values):.0f} | {len(values)}"


def render(
    latency: dict[str, list[float]], spent: dict[str, float], seconds: float,
    over_music: dict[str, int], tries: int, long: dict[str, float] | None,
) -> str:  # fmt: skip
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=ROOT.parent).stdout.strip()  # fmt: skip
    mixed_max = max(latency["mixed"], default=float("nan"))
    heard_max = max(latency["heard"], default=float("nan"))
    lines = [
        f"Measured {time.strftime('%Y-%m-%d %H:%M')} on {os.cpu_count()} cores, "
        f"{platform.machine()}, Python {platform.python_version()} (commit {commit}); "
        f"radio: a 128 kb/s MP3 with ICY titles from 127.0.0.1, decoded by ffmpeg.",
        "",
        "| Figure | Median | Min | Max | Runs | Target | |",
        "|---|---:|---:|---:|---:|---|---|",
        f"| M1. Wake word heard -> music mixed at its ducked gain (ms) | {summary(latency['mixed'])} "
        f"| <= 100 ms | {'met' if mixed_max <= 100 else 'MISSED'} |",
        f"| M2. Wake word heard -> music 14 dB down at the speaker's monitor (ms) | "
        f"{summary(latency['heard'])} | <= 100 ms | {'met' if heard_max <= 100 else 'MISSED'} |",
        f"| M3. Daemon CPU, idle ({seconds:.0f} s) (% core) | {spent['idle_cpu']:.2f} | | | 1 |  |  |",
        f"| M3. Daemon CPU, radio playing ({seconds:.0f} s) (% core) | {spent['playing_cpu']:.2f} | | | 1 |  |  |",
        f"| M3. ffmpeg CPU, decoding the radio (% core) | {spent['ffmpeg_cpu']:.2f} | | | 1 |  |  |",
        f"| M4. Daemon RSS idle / playing (MB) | {spent['idle_rss']:.0f} / {spent['playing_rss']:.0f} | | | 1 |  |  |",
        f"| M4. Daemon RSS growth over {seconds:.0f} s of radio (MB) | {spent['rss_growth']:.2f} | | | 1 |  |  |",
        f"| M4. ffmpeg RSS (MB) | {spent['ffmpeg_rss']:.1f} | | | 1 |  |  |",
        f"| M5. Wake word over the music in the room, echo cancellation on (of {tries}) | "
        f"{over_music['on']} | | | 1 | >= {0.9 * tries:.0f} | "
        f"{'met' if over_music['on'] >= 0.9 * tries else 'MISSED'} |",
        f"| M5. The same, echo cancellation off (of {tries}) | {over_music['off']} | | | 1 |  |  |",
    ]
    if long is not None:
        minutes = long["seconds"] / 60
        lines += [
            f"| M6. Music ran dry at the speaker over {minutes:.0f} min of radio (underruns; load "
            f"{long['load']:.1f}) | {long['underruns']:.0f} | | | 1 | 0 | "
            f"{'met' if long['underruns'] == 0 and long['still_playing'] else 'MISSED'} |",
            f"| M6. The device ran dry while the music flowed (blocks written late) | "
            f"{long['device_underruns']:.0f} | | | 1 | 0 | "
            f"{'met' if long['device_underruns'] == 0 else 'MISSED'} |",
            f"| M6. RSS growth of the process over those {minutes:.0f} min (MB) | "
            f"{long['rss_growth']:.1f} | | | 1 |  |  |",
        ]
    lines.append("")
    return "\n".join(lines)


async def run(trials: int, seconds: float, tries: int, long_seconds: float) -> str:
    with tempfile.TemporaryDirectory(prefix="spk-bench-music-") as directory:
        workdir = Path(directory)
        with PulseAudioHarness() as pulse, EmulatorThread(speech="tone") as emu, \
                MediaServer(workdir / "radio", seconds=6.0) as radio:  # fmt: skip
            speech = Speech(workdir)
            (workdir / "latency").mkdir()
            latency = await duck_latency(pulse, emu, radio, speech, workdir / "latency", trials)
            (workdir / "cost").mkdir()
            spent = await asyncio.to_thread(cost, pulse, emu, radio, workdir / "cost", seconds)
            over_music = {}
            for setting in ("on", "off"):
                (workdir / f"over-{setting}").mkdir()
                over_music[setting] = await wake_over_music(
                    pulse, emu, radio, speech, workdir / f"over-{setting}", tries, setting
                )
            long = None
            if long_seconds > 0:
                (workdir / "long").mkdir()
                long = await long_stream(pulse, emu, radio, workdir / "long", long_seconds)
    return render(latency, spent, seconds, over_music, tries, long)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.music", description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=20.0, help="each CPU window")
    parser.add_argument("--tries", type=int, default=10, help="wake words over the music")
    parser.add_argument("--long-seconds", type=float, default=1800.0,
                        help="the long stream (0: leave it out)")
    parser.add_argument("--out", type=Path, default=ROOT / "music.md")
    args = parser.parse_args()
    text = asyncio.run(run(args.trials, args.seconds, args.tries, args.long_seconds))
    args.out.write_text(text)
    print(text)
    print(json.dumps({"written": str(args.out)}))


if __name__ == "__main__":
    main()
