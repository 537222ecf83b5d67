"""Run the emulator on its own event loop in a thread, for synchronous callers.

Subprocess end-to-end tests and `speakerd demo` need the emulator beside code
that is not async; every call on the runner hops onto the emulator's loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from .server import LiveEmulator

T = TypeVar("T")


class EmulatorThread:
    """Owns a LiveEmulator running on a private loop in a daemon thread.

        with EmulatorThread(speech="tone") as emu:
            emu.script([Turn(said="turn on the lamp")])
            run_daemon(base_url=emu.url, ca_file=emu.ca_file)
    """

    def __init__(self, **emulator_args: Any) -> None:
        self._args = emulator_args
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.emulator: LiveEmulator | None = None

    def start(self, timeout: float = 10.0) -> EmulatorThread:
        ready: concurrent.futures.Future[LiveEmulator] = concurrent.futures.Future()
        self._loop = asyncio.new_event_loop()

        def run() -> None:
            assert self._loop is not None
            asyncio.set_event_loop(self._loop)
            try:
                emulator = self._loop.run_until_complete(LiveEmulator(**self._args).start())
            except BaseException as error:
                ready.set_exception(error)
                return
            ready.set_result(emulator)
            self._loop.run_forever()
            self._loop.run_until_complete(emulator.stop())
            self._loop.close()

        self._thread = threading.Thread(target=run, name="live-emulator", daemon=True)
        self._thread.start()
        self.emulator = ready.result(timeout)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop is None or self._thread is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
        self._loop = None
        self._thread = None

    def __enter__(self) -> EmulatorThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def call(self, function: Callable[[LiveEmulator], T], timeout: float = 10.0) -> T:
        """Run `function(emulator)` on the emulator's loop and return its result."""
        if self._loop is None or self.emulator is None:
            raise RuntimeError("the emulator thread is not running")
        emulator = self.emulator

        async def invoke() -> T:
            result = function(emulator)
            if asyncio.iscoroutine(result):
                result = await result
            return result

        return asyncio.run_coroutine_threadsafe(invoke(), self._loop).result(timeout)

    def __getattr__(self, name: str) -> Any:
        """Emulator attributes; methods run on the emulator's loop."""
        emulator = self.__dict__.get("emulator")
        if emulator is None:
            raise AttributeError(name)
        value = getattr(emulator, name)
        if not callable(value):
            return value
        return lambda *args, **kwargs: self.call(lambda emu: getattr(emu, name)(*args, **kwargs))


def start_in_thread(**emulator_args: Any) -> EmulatorThread:
    """Start an emulator on its own thread; call `.stop()` when done."""
    return EmulatorThread(**emulator_args).start()
