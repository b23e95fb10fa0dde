"""Typed events on one bus.

Promises: ``publish`` never blocks and never raises into the publisher (a failing subscriber is
dropped from that delivery, not allowed to stall the downloader or the audio path); every
request event carries its ``request_id``. Never: holds a lock while calling subscribers, or keeps
history beyond a bounded ``EventQueue``.
"""

from kithara_cli.events.bus import EventBus, EventQueue
from kithara_cli.events.types import *  # noqa: F403
from kithara_cli.events.types import ALL_EVENT_TYPES, Event, event_to_dict

__all__ = ["ALL_EVENT_TYPES", "Event", "EventBus", "EventQueue", "event_to_dict"]
