"""Which segments of a reloaded live playlist are new: by media sequence number, and across
an origin restart.

Segments are new when numbered past the last one handed on, so a stale copy from a lagging
CDN edge (numbered lower, its URIs already seen) brings none. An encoder or packager restart
breaks that rule: EXT-X-MEDIA-SEQUENCE drops (5000 -> 0) and new URIs follow which, by
number alone, look older than anything seen, so the stream would stall; FFmpeg, mpv and
streamlink carry on through it. By number the two look alike; by what they list they do
not. A stale copy lists (number, URI) pairs already seen. A restart lists, at numbers
already passed, URIs never seen there, or a higher EXT-X-DISCONTINUITY-SEQUENCE under a
lower media sequence, which no older copy of the same stream can show. After a restart the
old numbering is kept aside (``_retired``) so that a late copy from before it is still
recognised as stale, not taken for new segments numbered above the new ones.

A URI is compared by its file name (and byte range): a CDN may change host, or sign each
reload's URIs with a fresh query token, and neither is a restart.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

from kithara_cli.hls.model import MediaPlaylist, Segment

# (number -> name) pairs remembered per numbering: far more than any live window.
MEMORY = 4096


@dataclass(frozen=True)
class Fresh:
    """What one reload brought: the new segments in order (after a restart the first is
    marked a discontinuity: timestamps start over), whether the origin restarted (and from
    which number), how many segments the playlist moved past unseen (``missed``: lost), and
    how many marked EXT-X-GAP it stepped over (``gaps``: the server has no media for them,
    which is no loss; they are never in ``missed``)."""

    segments: list[Segment]
    restarted_from: int | None = None
    missed: int = 0
    gaps: int = 0


def segment_name(segment: Segment) -> str:
    """A segment's identity across reloads: its URI's last path part, without query or
    fragment, and its byte range (string operations: a 10k-segment playlist is compared on
    every reload)."""
    path = segment.uri.split("#", 1)[0].split("?", 1)[0]
    name = path.rsplit("/", 1)[-1]
    if segment.byterange is None:
        return name
    return f"{name}@{segment.byterange[0]}+{segment.byterange[1]}"


class SequenceTracker:
    """Follows one live playlist's numbering across reloads (``take``); the first load's
    segments count as handed on (a live start picks its edge from them)."""

    def __init__(self, media: MediaPlaylist) -> None:
        self.last: int | None = media.segments[-1].sequence if media.segments else None
        self._known: dict[int, str] = {}
        self._retired: dict[int, str] = {}
        self._discontinuity = media.discontinuity_sequence
        self._first = media.media_sequence
        self._remember(media.segments)

    def take(self, media: MediaPlaylist) -> Fresh:
        """The segments of ``media`` (a reload) not handed on yet; it remembers them."""
        segments = media.segments
        if not segments:
            return Fresh([])
        tail = segments[-1]
        if self._retired.get(tail.sequence) == segment_name(tail):
            return Fresh([])  # a copy from before the restart, still at some edge
        last = self.last
        if last is not None and self._restarted(media, last):
            return self._restart(media, last)
        fresh = [
            s
            for s in segments
            if (last is None or s.sequence > last)
            and self._retired.get(s.sequence) != segment_name(s)
        ]
        missed = gaps = 0
        if fresh and last is not None:
            passed = [n for n in media.gaps if last < n < fresh[-1].sequence]
            gaps = len(passed)
            before = sum(1 for n in passed if n < fresh[0].sequence)
            missed = fresh[0].sequence - last - 1 - before
        if fresh:
            self.last = fresh[-1].sequence
            self._discontinuity = media.discontinuity_sequence
            self._first = media.media_sequence
            self._remember(fresh)
        return Fresh(fresh, missed=missed, gaps=gaps)

    def _restarted(self, media: MediaPlaylist, last: int) -> bool:
        segments = media.segments
        tail = segments[-1]
        if tail.sequence <= last and self._known.get(tail.sequence) != segment_name(tail):
            return True  # nothing past the last number, and its newest segment never seen there
        known = self._known
        for s in segments:
            if s.sequence <= last and s.sequence in known and known[s.sequence] != segment_name(s):
                return True  # numbers already passed now name other segments
        return media.discontinuity_sequence > self._discontinuity and (
            media.media_sequence < self._first
        )

    def _restart(self, media: MediaPlaylist, last: int) -> Fresh:
        seen = set(self._known.values())
        fresh = [s for s in media.segments if segment_name(s) not in seen]
        if not fresh:  # the same names again, told apart by the discontinuity sequence only
            fresh = list(media.segments)
        fresh[0] = dataclasses.replace(fresh[0], discontinuity=True)
        self._retired, self._known = self._known, {}
        self.last = media.segments[-1].sequence
        self._discontinuity = media.discontinuity_sequence
        self._first = media.media_sequence
        self._remember(media.segments)
        return Fresh(fresh, restarted_from=last)

    def _remember(self, segments: Iterable[Segment]) -> None:
        known = self._known
        for s in segments:
            known[s.sequence] = segment_name(s)
        while len(known) > MEMORY:
            del known[next(iter(known))]  # the oldest first: numbers only grow
