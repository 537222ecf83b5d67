"""Phase 1: `speakerd check-config` on every file, each in its own bounded subprocess.

What an owner types after editing the file: it must answer 0 or 78 within a
second or two, in bounded memory, with a refusal that names the file, never a
traceback. Each child gets a wall time-out and an address-space cap (a
regression then shows as a MemoryError here, not as a swapping machine).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.abuse.measure import measure
from bench.stage import ROOT

TIMEOUT = 10.0
ADDRESS_SPACE_MB = 1024  # check-config needs ~170 MB of address space


@dataclass
class Built:
    """One file of the campaign, ready to check."""

    index: int
    name: str
    group: str
    path: Path
    case_dir: Path
    run_anyway: bool = False


def check_env(base: dict[str, str]) -> dict[str, str]:
    env = {**base, "GEMINI_API_KEY": "abuse-env-key", "GPIOZERO_PIN_FACTORY": "mock",
           "SPEAKERD_MODELS_DIR": str(ROOT / "models"), "PYTHONPATH": str(ROOT)}
    for name in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM"):
        env.pop(name, None)
    return env


def check_one(built: Built, env: dict[str, str]) -> dict[str, Any]:
    result = measure([sys.executable, "-m", "daemon", "check-config", str(built.path)],
                     env=env, cwd=built.case_dir, timeout=TIMEOUT,
                     address_space_mb=ADDRESS_SPACE_MB)
    first = result["stderr_head"].split("\n", 1)[0]
    return {
        "index": built.index, "name": built.name, "group": built.group,
        "path": str(built.path), "run_anyway": built.run_anyway, **result,
        # A refusal's first line names the file (its line, its key): "clear".
        "names_the_file": result["exit_code"] != 78 or first.startswith(str(built.path)),
        "code_executed": (built.case_dir / "pwned").exists(),
    }


def check_all(files: Iterable[Built], env: dict[str, str], jobs: int = 1,
              progress: bool = True) -> list[dict[str, Any]]:
    files = list(files)
    results: list[dict[str, Any]] = []
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for done, result in enumerate(pool.map(lambda b: check_one(b, env), files), 1):
            results.append(result)
            if progress and (done % 50 == 0 or done == len(files)):
                print(f"abuse: check-config {done}/{len(files)}", file=sys.stderr, flush=True)
    return results
