"""Timers, alarms and reminders that live on the device: they ring without a network
and survive a restart (model.py: what they are; store.py: the state file;
scheduler.py: when they ring; alarm_sound.py: the sound)."""

from daemon.timers.alarm_sound import AlarmSound, sound_seconds
from daemon.timers.model import Entry, TimerError
from daemon.timers.scheduler import Ring, Timers

__all__ = ["AlarmSound", "Entry", "Ring", "TimerError", "Timers", "sound_seconds"]
