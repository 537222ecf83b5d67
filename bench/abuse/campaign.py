"""scripts/abuse: the fuzzing and abuse campaign of issue 12, rerunnable with a fixed seed.

1. check-config on the hostile files the issue names and on seeded mutations
   of config/speakerd.yaml (356 files by default), each bounded in time and
   memory: exit codes, tracebacks, time-outs, time, peak RSS, output size;
2. `speakerd run`, as systemd starts it (NOTIFY_SOCKET, WATCHDOG_USEC, 1024
   open files), on every file check-config accepted (one per distinct config)
   and on the key-file, control-socket, sound and device cases whatever
   check-config said: does any start end in a restart loop?
3. 19 kinds of abuse of a running daemon's control socket;
4. the hostile run of issue 24 (bench/abuse/hostile.py): announcements that
   ask for tools, a connect flood during `ctl status`, oversized MQTT
   payloads and a burst of 200 announcements, with the daemon's peak RSS.

The daemons run over a private PulseAudio server and mock GPIO pins against the
Live emulator, as scripts/soak does.

    scripts/abuse                 # ~6 min on 2 cores; writes bench/abuse.json and abuse.md
    scripts/abuse --configs 60 --run-budget 60   # a short one
    scripts/abuse --keep          # keep the generated files (kept anyway on a finding)
    scripts/abuse --hostile-only  # phase 4 alone (~5 min); writes bench/abuse-hostile.json/.md

Exit 0 when tracebacks, time-outs and restart loops are all 0 and the daemon
answered `status` after every kind of abuse.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import resource
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.abuse import checks, hostile, restarts, socket_abuse
from bench.abuse.base import DOCUMENTED, World, fill, fill_bytes, template
from bench.abuse.cases import cases
from bench.abuse.checks import Built
from bench.abuse.mutations import mutated_files
from bench.abuse.summary import render, summarize
from bench.stage import ROOT
from daemon.config import ConfigError, load_config
from daemon.emulator import EmulatorThread
from daemon.sim.pulse import PulseAudioHarness

SEED = 12  # the number
CONFIGS = 356
RUN_BUDGET = 300.0


def build_all(world: World, count: int, seed: int) -> list[Built]:
    """The targeted cases, then seeded mutations up to `count` files in all."""
    built: list[Built] = []
    for index, case in enumerate(cases()):
        case_dir = world.case_dir(index)
        built.append(Built(index, case.name, case.group, case.build(world, case_dir), case_dir,
                           case.run_anyway))
    first = len(built)
    for number, data in enumerate(mutated_files(template(), max(0, count - first), seed)):
        index = first + number
        case_dir = world.case_dir(index)
        path = case_dir / "config.yaml"
        path.write_bytes(fill_bytes(data, world, case_dir))
        built.append(Built(index, f"mutation {number}", "mutation", path, case_dir))
    return built


def to_run(built: list[Built], results: list[dict[str, Any]]) -> tuple[
        list[tuple[Built, Path | None]], int, int]:
    """Which files `speakerd run` gets: (files with their socket, accepted, distinct accepted).

    Every file check-config accepted, and the cases that once looped whatever
    check-config said. Distinct: how many different configs the accepted files
    load to (what `run` sees), for the report.
    """
    code = {r["index"]: r["exit_code"] for r in results}
    chosen: list[tuple[Built, Path | None]] = []
    seen: set[str] = set()
    accepted = 0
    for item in built:
        socket_path = None
        key = None
        if code[item.index] == 0:
            accepted += 1
            try:
                config = load_config(item.path)
            except (ConfigError, OSError, ValueError):
                config = None
            if config is not None:
                socket_path = item.case_dir / config.control.socket  # relative: the daemon's cwd
                key = config.model_dump_json().replace(str(item.case_dir), "@CASE@")
        if item.run_anyway or code[item.index] == 0:
            chosen.append((item, socket_path))
        if key is not None:
            seen.add(key)
    return chosen, accepted, len(seen)


def _closed_port() -> socket.socket:
    """A loopback TCP port bound and never listened on: connections to it are refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


def _more_open_files() -> None:
    """The campaign itself holds 1100+ connections; the daemon keeps systemd's 1024."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    began = time.monotonic()
    phases: dict[str, float] = {}
    with PulseAudioHarness() as pulse, EmulatorThread(speech="tone", speech_pace=8.0) as emu:
        port = _closed_port()
        world = World(workdir, emu.url, Path(emu.ca_file), port.getsockname()[1], [port])
        try:
            env = checks.check_env(pulse.env())
            built = build_all(world, args.configs, args.seed)
            results = checks.check_all(built, env, jobs=args.jobs)
            phases["check-config"] = round(time.monotonic() - began, 1)
            chosen, accepted, distinct = to_run(built, results)
            runs, unrun = restarts.run_all(chosen, env, args.run_budget)
            phases["run"] = round(time.monotonic() - began - sum(phases.values()), 1)
            ctl_dir = workdir / "ctl"
            ctl_dir.mkdir()
            config = ctl_dir / "config.yaml"
            config.write_text(fill(template(), world, ctl_dir))
            sock = socket_abuse.run(config, ctl_dir / "ctl.sock", env, ctl_dir, args.seed)
            phases["socket"] = round(time.monotonic() - began - sum(phases.values()), 1)
            hostile_run = hostile.run(env, emu, workdir / "hostile")
            phases["hostile"] = round(time.monotonic() - began - sum(phases.values()), 1)
        finally:
            for held in world.held:
                held.close()  # type: ignore[attr-defined]
    meta = {
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), "seed": args.seed,
        "seconds": round(time.monotonic() - began),
        "phases_seconds": phases,
        "machine": f"{os.cpu_count()} cores, Python {sys.version.split()[0]}",
        "documented_sha256": hashlib.sha256(DOCUMENTED.read_bytes()).hexdigest()[:16],
        "command": " ".join(["scripts/abuse", *args.argv]),
    }
    raw = {"meta": meta, "checks": results, "runs": runs, "unrun": unrun, "socket": sock,
           "hostile": hostile_run}
    (workdir / "raw.json").write_text(json.dumps(raw, default=str))  # if summarizing fails
    summary = summarize(results, runs, unrun, accepted, distinct, sock, meta)
    summary["checks"] = [_row(r) for r in results]
    summary["runs"] = runs
    summary["hostile"] = hostile_run
    return summary


def run_hostile(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Phase 4 alone: the hostile run of issue 24."""
    began = time.monotonic()
    with PulseAudioHarness() as pulse, EmulatorThread(speech="tone", speech_pace=8.0) as emu:
        env = checks.check_env(pulse.env())
        result = hostile.run(env, emu, workdir / "hostile", args.parts or None)
    result["meta"] = {
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "seconds": round(time.monotonic() - began),
        "machine": f"{os.cpu_count()} cores, Python {sys.version.split()[0]}",
        "command": " ".join(["scripts/abuse", *args.argv]),
    }
    return result


def dump(summary: dict[str, Any]) -> str:
    """JSON with one line per file and per start (readable, and a third of the size)."""
    rows = ("checks", "runs")
    text = json.dumps({k: (f"@{k}@" if k in rows else v) for k, v in summary.items()},
                      indent=1, default=str)
    for key in rows:
        lines = ",\n  ".join(json.dumps(row, default=str) for row in summary[key])
        text = text.replace(f'"@{key}@"', f"[\n  {lines}\n ]")
    return text


def _row(result: dict[str, Any]) -> dict[str, Any]:
    """One check-config result for abuse.json: the figures and its first line."""
    head = result["stdout_head"] if result["exit_code"] == 0 else result["stderr_head"]
    keep = ("index", "name", "group", "exit_code", "timed_out", "seconds", "peak_rss_mb",
            "output_bytes", "longest_line", "tracebacks", "names_the_file", "code_executed")
    return {**{key: result[key] for key in keep}, "said": head.split("\n", 1)[0][:200]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/abuse", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=SEED, help=f"default {SEED}")
    parser.add_argument("--configs", type=int, default=CONFIGS,
                        help=f"config files in all, targeted cases first (default {CONFIGS})")
    parser.add_argument("--jobs", type=int, default=1, help="check-config processes at once")
    parser.add_argument("--run-budget", type=float, default=RUN_BUDGET,
                        help=f"seconds for the `speakerd run` phase (default {RUN_BUDGET:g})")
    parser.add_argument("--out", type=Path, default=ROOT / "bench",
                        help="where abuse.json and abuse.md go (default: bench/)")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument("--hostile-only", action="store_true",
                        help="run phase 4 alone; writes abuse-hostile.json and abuse-hostile.md")
    parser.add_argument("--part", dest="parts", action="append", choices=list(hostile.PARTS),
                        help="with --hostile-only: only this part (repeatable)")
    args = parser.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else argv
    _more_open_files()
    workdir = Path(tempfile.mkdtemp(prefix="spk-abuse-"))  # short: socket paths <= 107 bytes
    if args.hostile_only:
        return _hostile_only(args, workdir)
    summary = run(args, workdir)
    clean = summary["verdict"]["clean"]
    if args.keep or not clean:
        print(f"abuse: the generated files are kept in {workdir}", file=sys.stderr)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    args.out.mkdir(parents=True, exist_ok=True)
    # The temporary directory's name changes every run; "$WORK" keeps reruns comparable.
    text = dump(summary).replace(str(workdir), "$WORK")
    (args.out / "abuse.json").write_text(text + "\n")
    table = render(summary) + "\n".join(hostile.render(summary["hostile"])) + "\n"
    table = table.replace(str(workdir), "$WORK")
    (args.out / "abuse.md").write_text(table)
    print(table)
    return 0 if clean else 1


def _hostile_only(args: argparse.Namespace, workdir: Path) -> int:
    result = run_hostile(args, workdir)
    meta = result["meta"]
    table = "\n".join([
        f"Hostile run (issue 24) {meta['date']}, {meta['seconds']} s ({meta['machine']}): "
        f"`{meta['command']}`.",
        *hostile.render(result),
    ]).replace(str(workdir), "$WORK") + "\n"
    args.out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, indent=1, default=str).replace(str(workdir), "$WORK")
    (args.out / "abuse-hostile.json").write_text(text + "\n")
    (args.out / "abuse-hostile.md").write_text(table)
    print(table)
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if result.get("tracebacks") == 0 and result.get("exit_code") == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
