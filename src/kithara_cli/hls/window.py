"""How far ahead of its consumer the segment scheduler fetches: one rule for fetch and play.

Pure (no clock, no I/O, no threads), so it is tested without a server: given where the
consumer is, what it has submitted and what is in flight, and for playback the seconds
buffered ahead of the playhead, which segment indices to submit next. The consumers only
state their parameters: the fetch writer a segment window (``for_fetch``: twice its
``--segments-in-flight``, the downloader bounding what actually runs); the playback source
its prefetch and the ABR's buffer target (``for_play``: a small target until audio starts,
so that a burst of prefetch does not compete with the decoder's start-up).
"""

from __future__ import annotations

from dataclasses import dataclass

# Until playback starts, playback fetches no more than this many seconds ahead.
FIRST_AUDIO_SECONDS = 4.0


@dataclass(frozen=True)
class WindowView:
    """What the policy looks at: one consumer's window at one moment."""

    position: int  # the first segment the consumer has not taken yet (written, placed)
    frontier: int  # the next segment not yet submitted
    known: int  # segments listed so far (a live playlist grows)
    in_flight: int  # fetches under way
    buffered: float = 0.0  # seconds buffered ahead of the playhead (playback)
    started: bool = True  # playback started (a fetch is always "started")


@dataclass(frozen=True)
class WindowPolicy:
    """``ahead``: segments past the consumer's position that may be submitted (in flight or
    landed, not yet taken); ``in_flight``: fetches at once (None: the downloader's own bound);
    ``seconds``: no new fetch while this much is buffered ahead of the playhead (None: no
    bound); ``first_seconds``: the same before playback starts."""

    ahead: int
    in_flight: int | None = None
    seconds: float | None = None
    first_seconds: float | None = None

    @classmethod
    def for_fetch(cls, in_flight: int) -> WindowPolicy:
        """The fetch writer: segments land out of order and wait in memory for their turn, so
        twice what runs at once keeps every connection busy past a slow segment."""
        return cls(ahead=max(2, in_flight * 2))

    @classmethod
    def for_play(cls, prefetch: int, max_ahead: float) -> WindowPolicy:
        """The playback source: ``prefetch`` fetches at once, two more landed ahead of the
        one being placed, and no more than ``max_ahead`` seconds buffered (the ABR's target)."""
        prefetch = max(1, prefetch)
        return cls(
            ahead=prefetch + 2,
            in_flight=prefetch,
            seconds=max_ahead,
            first_seconds=min(max_ahead, FIRST_AUDIO_SECONDS),
        )

    def limit_seconds(self, started: bool) -> float | None:
        return self.seconds if started else self.first_seconds

    def to_submit(self, view: WindowView) -> range:
        """The indices to submit now, in order (empty when the window is full)."""
        start = view.frontier
        limit = self.limit_seconds(view.started)
        if limit is not None and view.buffered >= limit:
            return range(start, start)
        stop = min(view.known, view.position + self.ahead)
        if self.in_flight is not None:
            stop = min(stop, start + self.in_flight - view.in_flight)
        return range(start, max(start, stop))
