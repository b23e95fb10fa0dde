"""Now-playing titles published when their audio plays, not when their bytes arrive.

Three kinds of source: an ICY title is placed by audio byte offset, over the stream's byte
rate (ICY streams are constant bit rate in practice); chained Ogg links (the decoder) and HLS
ID3 tags (the source) by timeline second, in a ``radio.titles.TitleQueue`` that keeps their
history, so that after a seek the title in force at the target is published once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from kithara_cli.events import EventBus
from kithara_cli.events.types import TitleChanged
from kithara_cli.play.snapshot import Snapshot

if TYPE_CHECKING:
    from kithara_cli.radio.live import LiveStream
    from kithara_cli.radio.titles import TitleQueue


class NowPlaying:
    """Publishes ``TitleChanged`` and keeps ``snapshot.now_playing`` for the dashboard."""

    def __init__(self, bus: EventBus, snapshot: Snapshot) -> None:
        self.bus = bus
        self.snapshot = snapshot

    def poll(self, pos: float, live: LiveStream | None, queues: Sequence[TitleQueue]) -> None:
        """Playback is at ``pos`` (seconds): publish what has started playing since."""
        if live is not None:
            rate = live.byterate
            # Without icy-br, a title shows once the decoder has read its bytes (early by the
            # decoded buffer, a second or two).
            upto = int(pos * rate) if rate is not None else live.window.reader
            for icy in live.titles_until(upto):
                self.publish(icy.title, icy.url, pos, icy.offset)
        for queue in queues:
            for timed in queue.due(pos):
                self.publish(timed.title, timed.url, pos)

    def publish(self, title: str, url: str, pos: float, offset: int = 0) -> None:
        self.snapshot.now_playing = title
        self.bus.publish(TitleChanged(title=title, url=url, position=pos, byte_offset=offset))
