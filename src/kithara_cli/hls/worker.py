"""The playlist worker (streamlink's ``worker``): follows a live playlist for fetch and play.

It reloads the media playlist and hands what is new to a ``SegmentFeed`` (the segment
scheduler of the fetch writer or of playback's source), which turns it into a typed message on
its consumer's inbox. The
first load, variants and renditions are ``loader``'s and ``select``'s; failover between
variants is the playback source's (it knows which variant failed).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from kithara_cli.dl import Downloader
from kithara_cli.errors import HttpStatusError, KitharaError, PlaylistError
from kithara_cli.events.types import Notice
from kithara_cli.hls.model import MediaPlaylist, Segment
from kithara_cli.hls.sequence import Fresh, SequenceTracker

if TYPE_CHECKING:
    from kithara_cli.events import EventBus


class SegmentFeed(Protocol):
    """Where a ``LiveFollower`` hands what it finds: a ``scheduler.SegmentFetcher``."""

    bus: EventBus

    def add_segments(self, segments: list[Segment], ended: bool) -> None: ...

    def fail_feed(self, error: KitharaError) -> None: ...


class LiveFollower(threading.Thread):
    """Reloads a live playlist and feeds new segments to a scheduler (streamlink's worker).

    Reload interval: the target duration, halved while the playlist is unchanged (down to a
    quarter of it), back to the target duration when it changes. A playlist that brings no new
    segment for ``UNCHANGED_TARGETS`` target durations (and at least ``UNCHANGED_RELOADS``
    reloads) is stuck, as hls.js's PLAYLIST_UNCHANGED_ERROR says: a ``PlaylistError``, never a
    silent wait. An origin that restarts (its media sequence drops, with new URIs) is followed
    on, its first new segment marked a discontinuity; a stale edge copy is not a restart
    (``sequence.SequenceTracker`` tells them apart). A reload that fails (``_passing``: an edge's 404, a 5xx, a dead endpoint)
    counts as one that brought nothing, so a brief miss is ridden over and an endpoint that
    stays dead ends the stream by the same rule, with that failure as the error. ``url``: where
    to reload (as hls.js reloads a level's own URI; default the playlist's final URL). ``clock``
    and ``wait`` (seconds -> True once stopped) are injectable.
    """

    UNCHANGED_TARGETS = 3.0
    UNCHANGED_RELOADS = 3

    def __init__(
        self,
        downloader: Downloader,
        media: MediaPlaylist,
        feed: SegmentFeed,
        *,
        url: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        wait: Callable[[float], bool] | None = None,
    ) -> None:
        super().__init__(name="kithara-live", daemon=True)
        self.dl = downloader
        # Reloaded at the URL asked for (the master's URI, the user's), not where it redirected
        # to: a CDN's redirect hands out a signed edge URL that expires, or an edge that dies.
        self.url = url or media.url
        self.feed = feed
        self.target = max(media.target_duration, 0.5)
        self.sequence = SequenceTracker(media)
        self._stop_event = threading.Event()
        self._clock = clock
        self._wait = wait if wait is not None else self._stop_event.wait

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> None:
        from kithara_cli.hls.loader import load_media

        interval = self.target
        changed_at = self._clock()
        unchanged = 0
        while not self._wait(interval) and not self._stop_event.is_set():
            failure: KitharaError | None = None
            try:
                media: MediaPlaylist | None = load_media(self.dl, self.url)
            except KitharaError as exc:
                if not _passing(exc):
                    self.feed.fail_feed(exc)
                    return
                media, failure = None, exc
            taken = None if media is None else self._take(media)
            fresh = [] if taken is None else taken.segments
            if fresh:
                assert media is not None
                interval = max(media.target_duration, 0.5)
                self.target = interval
                changed_at = self._clock()
                unchanged = 0
            else:
                interval = max(interval / 2, self.target / 4)
                unchanged += 1
            if media is not None and (fresh or media.endlist):
                self.feed.add_segments(fresh, media.endlist)
                if media.endlist:
                    return
            stuck_for = self._clock() - changed_at
            if unchanged >= self.UNCHANGED_RELOADS and stuck_for >= (
                self.UNCHANGED_TARGETS * self.target
            ):
                self.feed.fail_feed(
                    failure
                    or PlaylistError(
                        f"live playlist unchanged after {unchanged} reloads over "
                        f"{stuck_for:.0f} s (no new segment, no EXT-X-ENDLIST): {self.url}"
                    )
                )
                return

    def _take(self, media: MediaPlaylist) -> Fresh:
        """What a reload brought (``SequenceTracker``), saying so where the playlist moved
        past segments unseen or the origin restarted."""
        taken = self.sequence.take(media)
        message = None
        if taken.restarted_from is not None:
            first = taken.segments[0].sequence
            message = (
                f"live playlist restarted (media sequence {taken.restarted_from} -> {first}, "
                "new segments): carrying on"
            )
        elif taken.missed:
            message = (
                f"live playlist moved on: {taken.missed} segment(s) missed "
                f"after {taken.segments[0].sequence - taken.missed - 1}"
            )
        if message is not None:
            self.feed.bus.publish(Notice(level="warning", message=message))
        if taken.gaps:  # the server has nothing there: stepped over, not missed
            message = f"live playlist: stepped over {taken.gaps} segment(s) marked EXT-X-GAP"
            self.feed.bus.publish(Notice(level="info", message=f"{message} (no media)"))
        return taken


def _passing(error: KitharaError) -> bool:
    """A reload failure a live stream rides over (as hls.js retries a level load and FFmpeg
    reloads again): a network error or 5xx after the retries, an HTTP status (a CDN edge that
    has not got the new playlist yet answers 404), or a body that is no playlist (an edge's
    error page). It ends the stream only once the playlist has brought nothing new for as
    long as an unchanged one may (``UNCHANGED_TARGETS``): then it is the error reported."""
    return error.retryable or isinstance(error, (HttpStatusError, PlaylistError))
