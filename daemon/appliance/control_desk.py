"""What `speakerd ctl` asks of the appliance, answered through its public methods.

Each request takes the same path as the button or the wake word; a refusal is
an `error` field that says why (the socket turns it into `ok: false`).
"""

from __future__ import annotations

from typing import Any

from daemon.appliance.appliance import Appliance
from daemon.memory import MemoryRefused
from daemon.timers import TimerError


class ControlDesk:
    """The daemon.control.server.Controls protocol for one appliance."""

    def __init__(self, appliance: Appliance) -> None:
        self._appliance = appliance

    def status(self) -> dict[str, Any]:
        return self._appliance.status().as_reply()

    async def wake(self) -> dict[str, Any]:
        refusal = self._appliance.press()
        if refusal is not None:
            return {"error": f"wake refused: {refusal}", "state": self._state()}
        return {"message": "ok", "state": self._state()}

    async def say(self, text: str) -> dict[str, Any]:
        refusal = await self._appliance.say(text)
        if refusal is not None:
            return {"error": f"not sent: {refusal}", "state": self._state()}
        return {"message": "sent", "state": self._state()}

    async def mute(self, on: bool) -> dict[str, Any]:
        if not await self._appliance.mute(on):
            return {"message": "already muted" if on else "not muted", "muted": on}
        return {"message": "muted" if on else "unmuted", "muted": on}

    async def stop(self) -> dict[str, Any]:
        return {"message": await self._appliance.stop()}

    async def media(self, action: str, what: str = "") -> dict[str, Any]:
        """`ctl play WHAT|pause|resume|next|now`: the player's sentence; a refusal is an error."""
        message = await self._appliance.media_command(action, what)
        music = self._appliance.media
        reply: dict[str, Any] = {"message": message}
        if music is not None:
            reply["music"] = music.now()
        if music is None or _refused(action, message):
            reply["error"] = message
        return reply

    async def list_timers(self) -> dict[str, Any]:
        """`ctl timers`: each pending timer and alarm with the time left."""
        timers = self._appliance.timers
        if timers is None:
            return {"error": "timers are not available"}
        listed = timers.list()
        lines = [
            f"{t['id']}  {t['label'] or t['kind']}  in {t['left']}  ({t['rings_at']})"
            for t in listed
        ]
        return {"message": "\n".join(lines) or "no timers or alarms", "timers": listed}

    async def cancel_timer(self, which: str) -> dict[str, Any]:
        """`ctl cancel LABEL|ID|all`."""
        timers = self._appliance.timers
        if timers is None:
            return {"error": "timers are not available"}
        try:
            result = timers.cancel(which)
        except TimerError as exc:
            return {"error": str(exc)}
        return {"message": "cancelled " + ", ".join(result["cancelled"]), **result}

    async def memory(self, action: str, what: str | None = None) -> dict[str, Any]:
        """`ctl memory list|forget ID|clear`: the household memory."""
        memory = self._appliance.memory
        if memory is None:
            return {"error": "the memory is off (memory.enabled: false)"}
        if action == "list":
            facts = memory.summary()
            lines = [f"{f['id']}  {f['text']}  ({f['added']})" for f in facts]
            return {"message": "\n".join(lines) or "nothing is remembered", "facts": facts}
        if action == "clear":
            gone = memory.clear()
            return {"message": f"forgot {len(gone)} fact(s)", "forgotten": len(gone)}
        try:
            gone = memory.forget(what or "")
        except MemoryRefused as exc:
            return {"error": str(exc)}
        return {
            "message": "forgot " + "; ".join(f"{f.id} {f.text}" for f in gone),
            "forgotten": len(gone),
        }

    def _state(self) -> str:
        return str(self._appliance.machine.state)


_DONE = {
    "play": ("playing",),
    "pause": ("paused",),
    "resume": ("playing",),
    "next": ("playing",),
    "now": ("",),
}


def _refused(action: str, message: str) -> bool:
    """A media reply that says nothing was done (`ctl` exits 2 on it)."""
    if action == "now":
        return False
    return not message.startswith(_DONE.get(action, ("",)))
