"""Timers, alarms and reminders that live on the device: they ring without a network
and survive a restart (model.py: what they are; store.py: the state file;
scheduler.py: when they ring; ringer.py: the sound)."""

from daemon.timers.model import Entry, TimerError
from daemon.timers.ringer import Ringer, sound_seconds
from daemon.timers.scheduler import Ring, Timers

__all__ = ["Entry", "Ring", "Ringer", "TimerError", "Timers", "sound_seconds"]
