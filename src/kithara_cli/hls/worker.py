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
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from kithara_cli.dl import Downloader
from kithara_cli.errors import Cancelled, HttpStatusError, KitharaError, PlaylistError
from kithara_cli.events.types import Notice
from kithara_cli.hls.model import MediaPlaylist, Segment
from kithara_cli.hls.run import _by_sequence
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

    ``backups``: the redundant copies of that playlist (RFC 8216 6.2.3: the same BANDWIDTH and
    CODECS, another host). A reload that fails (after ``FAILOVER_ATTEMPTS``, not the whole
    retry policy) moves to the next copy at once, as hls.js and ExoPlayer move to a backup
    stream when the primary's host dies mid-stream: its segments carry the same media
    sequence numbers, so the recording or playback goes on where it was. Once every copy
    has failed in a row, the reloads go on at the usual pace and the rule above ends it.
    """

    UNCHANGED_TARGETS = 3.0
    UNCHANGED_RELOADS = 3
    FAILOVER_ATTEMPTS = 2  # per reload while a backup copy could serve instead

    def __init__(
        self,
        downloader: Downloader,
        media: MediaPlaylist,
        feed: SegmentFeed,
        *,
        url: str | None = None,
        backups: Sequence[str] = (),
        clock: Callable[[], float] = time.monotonic,
        wait: Callable[[float], bool] | None = None,
    ) -> None:
        super().__init__(name="kithara-live", daemon=True)
        self.dl = downloader
        # Reloaded at the URL asked for (the master's URI, the user's), not where it redirected
        # to: a CDN's redirect hands out a signed edge URL that expires, or an edge that dies.
        self.url = url or media.url
        self.urls = list(dict.fromkeys([self.url, *backups]))  # the primary first
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
        failed_in_a_row = 0  # reloads, across the copies, since one last loaded
        attempts = self.FAILOVER_ATTEMPTS if len(self.urls) > 1 else None
        while not self._wait(interval) and not self._stop_event.is_set():
            failure: KitharaError | None = None
            try:
                media: MediaPlaylist | None = load_media(self.dl, self.url, max_attempts=attempts)
                failed_in_a_row = 0
            except KitharaError as exc:
                failed_in_a_row += 1
                if len(self.urls) > 1 and not isinstance(exc, Cancelled):
                    # A copy not tried since the last load: reloaded now; once all have
                    # failed in a row, each in turn at the usual pace.
                    now = failed_in_a_row < len(self.urls)
                    self._fail_over(exc, say=now)
                    if now:
                        interval = 0.0
                        continue
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

    def stand_in(self, segment: Segment) -> Segment | None:
        """``segment`` (failed on its host) as a redundant copy lists it: the same media
        sequence number under another URI, or None where no copy's playlist does. Called
        from the consumer's thread."""
        from kithara_cli.hls.loader import load_media

        for url in self.urls:
            try:
                media = load_media(self.dl, url, max_attempts=self.FAILOVER_ATTEMPTS)
            except KitharaError:
                continue
            found = _by_sequence(media, segment.sequence)
            if found is not None and found.uri != segment.uri:
                return found
        return None

    def _fail_over(self, error: KitharaError, *, say: bool) -> None:
        """The playlist at ``url`` failed: go on with its next redundant copy."""
        self.url = self.urls[(self.urls.index(self.url) + 1) % len(self.urls)]
        if not say:
            return
        self.feed.bus.publish(
            Notice(
                level="warning",
                message=f"live playlist failed ({error}): going on with its backup stream "
                f"{self.url}",
            )
        )

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
