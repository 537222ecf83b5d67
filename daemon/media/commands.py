"""The player's commands by name: `ctl play|pause|resume|next|now|stop` and Home
Assistant's media entities take the same words, so both say the same sentences."""

from __future__ import annotations

from daemon.media.player import Player


async def media_command(media: Player, action: str, what: str = "") -> str:
    """Carry out `action` (with its argument `what`); what was done, in a sentence."""
    if action == "play":
        return await media.play(what)
    if action == "play_station":
        return await media.play_station(what)
    if action == "play_url":
        return await media.play_url(what)
    if action == "pause":
        return media.pause()
    if action == "resume":
        return media.resume()
    if action == "play_last":  # Home Assistant's play button
        return await media.replay()
    if action == "stop":
        return await media.stop("stopped")
    if action == "next":
        return await media.next()
    if action == "now":
        return media.describe() if media.state != "stopped" else "nothing is playing"
    if action == "volume":
        media.set_volume(int(what))
        return f"music volume {media.volume} %"
    raise ValueError(f"unknown media action {action!r}")
