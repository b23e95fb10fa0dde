"""The ring and the sink of a play, opened without PyAV (a cached head plays before it loads)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from kithara_cli.events import Event
from kithara_cli.play.settings import PlayerSettings

if TYPE_CHECKING:
    from kithara_cli.audio import PcmRing, Sink

RING_RATE_CAP = 48_000  # the ring is sized before the device's rate is known
CHANNELS = 2


def open_output(
    settings: PlayerSettings, on_event: Callable[[Event], None]
) -> tuple[PcmRing, Sink, str | None]:
    """The ring and the sink (not started), and the sink's one-line message if any."""
    from kithara_cli.audio.devices import open_sink
    from kithara_cli.audio.ring import PcmRing

    ring = PcmRing(int(max(settings.buffer, 0.25) * RING_RATE_CAP), CHANNELS)
    sink, message = open_sink(
        settings.output, ring, rate=None, channels=CHANNELS, on_event=on_event
    )
    sink.volume = settings.volume
    if settings.length:  # exact, for a sink that drains faster than real time too (0: first audio)
        ring.play_limit = round(settings.length * sink.rate)
    return ring, sink, message
