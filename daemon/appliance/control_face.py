"""What `speakerd ctl` asks of the appliance: status, wake, say, stop, timers.

A part of Appliance kept in its own file (Appliance inherits it): each request
goes through the same paths as the button and the wake word, and a refusal is
an `error` field that says why (the socket turns it into `ok: false`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from daemon.timers import TimerError

if TYPE_CHECKING:
    from daemon.appliance.appliance import Appliance


class ControlFace:
    """The daemon.appliance.control.Controls protocol, on the appliance's own paths."""

    def status(self: Appliance) -> dict[str, Any]:
        conversation = self._conversation
        return {
            "state": str(self.machine.state),
            "muted": self._muted,
            "fatal": self.failures.fatal is not None,
            "relays": {name: relay.is_on for name, relay in self.devices.relays.items()},
            "transcripts": [
                {"role": t.role, "text": t.text, "at": t.at} for t in self._transcripts
            ],
            "session_uptime": (
                round(self.clock.now() - conversation.started_at, 1)
                if conversation is not None and conversation.is_open
                else None
            ),
            "last_error": self.last_error,
            "ringing": [ring.spoken() for ring in self.ringing.rings],
            "timers": self.timers.list() if self.timers is not None else [],
        }

    async def list_timers(self: Appliance) -> dict[str, Any]:
        """`ctl timers`: each pending timer and alarm with the time left."""
        if self.timers is None:
            return {"error": "timers are not available"}
        listed = self.timers.list()
        lines = [
            f"{t['id']}  {t['label'] or t['kind']}  in {t['left']}  ({t['rings_at']})"
            for t in listed
        ]
        return {"message": "\n".join(lines) or "no timers or alarms", "timers": listed}

    async def cancel_timer(self: Appliance, which: str) -> dict[str, Any]:
        """`ctl cancel LABEL|ID|all`."""
        if self.timers is None:
            return {"error": "timers are not available"}
        try:
            result = self.timers.cancel(which)
        except TimerError as exc:
            return {"error": str(exc)}
        return {"message": "cancelled " + ", ".join(result["cancelled"]), **result}

    async def wake(self: Appliance) -> dict[str, Any]:
        refusal = self._press()
        if refusal is not None:
            return {"error": f"wake refused: {refusal}", "state": str(self.machine.state)}
        return {"message": "ok", "state": str(self.machine.state)}

    async def say(self: Appliance, text: str) -> dict[str, Any]:
        conversation = self._conversation
        if conversation is not None and conversation.is_open:
            sent = await conversation.say(text)
        else:
            opened = self._open("ctl say", first_text=text)
            if isinstance(opened, str):
                return {"error": f"not sent: {opened}", "state": str(self.machine.state)}
            conversation = opened
            sent = await conversation.opened()  # it sends the text as soon as it is open
        if not sent:
            return {"error": f"not sent: {conversation.end_reason}"}
        return {"message": "sent", "state": str(self.machine.state)}

    async def stop(self: Appliance) -> dict[str, Any]:
        """`ctl stop`: stop a ring, else end the conversation (the daemon keeps running)."""
        if self._stop_ringing("ctl stop"):
            return {"message": "stopped ringing"}
        if self._conversation is None or not self._conversation.is_open:
            return {"message": "no conversation open"}
        await self._close_conversation("stopped from the control socket")
        return {"message": "stopped"}
