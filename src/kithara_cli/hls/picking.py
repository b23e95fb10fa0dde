"""Which variant serves a segment in playback: failover after a failure, on a live stream
the segment with the same media sequence number in another variant's playlist, the variants
the persistent cache holds a segment of, and what a replay's head was read from.

A mixin of ``source.HlsSource``: the attributes declared below are the source's own.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kithara_cli.abr.controller import AbrController
from kithara_cli.errors import KitharaError
from kithara_cli.events import EventBus
from kithara_cli.events.types import Notice
from kithara_cli.hls.loader import Rung
from kithara_cli.hls.model import MediaPlaylist, Segment
from kithara_cli.hls.run import _by_sequence, _Run
from kithara_cli.hls.sequence import SequenceTracker

if TYPE_CHECKING:
    from kithara_cli.dl import Downloader

# Where live playback starts: this many segments before the end of the playlist (as
# ``kithara fetch``'s default ``--live-edge``; hls.js's liveSyncDurationCount is 3 too).
LIVE_EDGE_SEGMENTS = 3


@dataclass
class LiveEras:
    """Which numbering each live variant's playlist is in, across origin restarts: where in
    the followed timeline each restart began, and per other variant its own ``tracker`` and
    the era its playlist has reached (variants do not restart at the same instant)."""

    restarts: list[int] = field(default_factory=list)  # timeline indices
    trackers: dict[int, SequenceTracker] = field(default_factory=dict)
    reached: dict[int, int] = field(default_factory=dict)

    def of_index(self, index: int) -> int:
        return bisect.bisect_right(self.restarts, index)

    def loaded(self, variant: int, media: MediaPlaylist) -> None:
        """``variant``'s playlist was (re)read: has it restarted since its last read? Read
        the first time, it is taken to be in step with the followed one."""
        tracker = self.trackers.get(variant)
        if tracker is None:
            self.trackers[variant] = SequenceTracker(media)
            self.reached[variant] = len(self.restarts)
        elif tracker.take(media).restarted_from is not None:
            self.reached[variant] = self.reached.get(variant, 0) + 1


class VariantPicking:
    """Failover and live variant matching, over the source's rungs and reference timeline."""

    bus: EventBus
    rungs: dict[int, Rung]
    controller: AbrController
    clock: Callable[[], float]
    live: bool
    dl: Downloader
    _run: _Run | None
    _followed: int | None
    _reloaded: dict[int, float]
    _eras: LiveEras

    def media_for(self, variant: int) -> MediaPlaylist:
        raise NotImplementedError

    @property
    def reference(self) -> MediaPlaylist:
        raise NotImplementedError

    def _skip_to_live_edge(self, run: _Run, index: int) -> None:
        """A live segment the server no longer has (playback paused longer than its window):
        go on from ``LIVE_EDGE_SEGMENTS`` before the newest segment, as FFmpeg's HLS demuxer
        skips segments that expired from the playlist."""
        ref = self.reference
        target = max(index + 1, len(ref.segments) - LIVE_EDGE_SEGMENTS)
        for i in range(index, target):
            run.skipped.add(i)
            run.ready.pop(i, None)
            run.window.drop(i, "skipped")
        run.window.frontier = max(run.window.frontier, target)
        seq = ref.segments[index].sequence
        self.bus.publish(
            Notice(
                level="warning",
                message=f"live: segment {seq} is gone from the server; "
                f"skipping {target - index} segment(s) towards the live edge",
            )
        )

    def _failover_variant(self, failed: int, tried: set[int], index: int) -> int | None:
        """Another variant for a segment that failed after its retries (as hls.js switches
        level on a fragment error): the nearest lower bitrate first, then the nearest higher
        (live: of those whose playlist lists it)."""
        rate = self.rungs[failed].bandwidth
        rest = [
            r
            for r in self.rungs.values()
            if r.index not in tried
            and (not self.live or self._live_segment(r.index, index, reload=True))
        ]
        lower = sorted((r for r in rest if r.bandwidth <= rate), key=lambda r: -r.bandwidth)
        higher = sorted((r for r in rest if r.bandwidth > rate), key=lambda r: r.bandwidth)
        candidates = [*lower, *higher]
        return candidates[0].index if candidates else None

    def _cached(self, index: int | None) -> frozenset[int]:
        """The variants the persistent cache serves segment ``index`` of (with ``index`` None,
        before any playlist is read: whose playlist it holds), among those whose playlist is
        read: the ABR's fact for a replay. Live segments are never cached."""
        cache = self.dl.cache
        if cache is None or self.live:
            return frozenset()
        held: set[int] = set()
        for variant, rung in self.rungs.items():
            if index is None:
                if cache.lookup(rung.media_url) is not None:
                    held.add(variant)
                continue
            if rung.media is None:
                continue
            seg = self._segment(variant, index)[1]
            start, size = seg.byterange if seg.byterange is not None else (0, None)
            copy = cache.lookup(seg.uri)
            end = None if copy is None else copy.total if size is None else start + size
            if copy is not None and end is not None and copy.covered_until(start) >= end:
                held.add(variant)
        return frozenset(held)

    def first_segment_parts(self) -> tuple[str, tuple[str, ...]] | None:
        """What the presentation's first segment was read from, for a replay's head
        (``play.head``): its variant's media playlist URL, and the URLs of that playlist, the
        init section and the segment. None for a live stream, an encrypted segment or init (its
        audio must not lie on disk in the clear: keys are never kept), or while the current
        run did not start at the first segment or has not placed it."""
        run = self._run
        if self.live or run is None or run.first != 0 or not run.placed:
            return None
        variant = run.placed[0].variant
        segment = self._segment(variant, 0)[1]
        if segment.key is not None and segment.key.method != "NONE":
            return None
        if segment.init is not None and segment.init.key is not None:
            return None
        media_url = self.rungs[variant].media_url
        init = [segment.init.uri] if segment.init is not None else []
        return media_url, tuple(dict.fromkeys([media_url, *init, segment.uri]))

    def _segment(self, variant: int, index: int) -> tuple[int, Segment]:
        """The variant that will serve segment ``index`` (``variant`` unless, live, it lacks
        it) and that variant's segment."""
        if self.live:
            return self._live_pick(variant, index)
        media = self.media_for(variant)
        ref = self.reference
        if media is ref or len(media.segments) == len(ref.segments):
            return variant, media.segments[index]
        return variant, media.segments[media.segment_at(ref.starts[index] + 0.001)]

    def _segment_end(self, variant: int, index: int, segment: Segment) -> float:
        """Where ``segment`` (``variant``'s, serving slot ``index`` of the reference timeline)
        ends on that timeline. Variants are not always cut alike (6 s segments beside 2 s
        ones): one that serves a slot with a longer segment covers the slots after it, which
        must not be played again from another variant."""
        ref = self.reference
        if self.live:
            return ref.starts[index] + ref.segments[index].duration
        media = self.media_for(variant)
        if media is ref or len(media.segments) == len(ref.segments):
            return ref.starts[index] + ref.segments[index].duration
        at = media.segment_at(ref.starts[index] + 0.001)
        return media.starts[at] + segment.duration

    def _live_segment(self, variant: int, index: int, *, reload: bool = False) -> Segment | None:
        """Segment ``index`` of the followed timeline as ``variant`` lists it (same media
        sequence number), or None while it lists no such segment. A playlist that does not
        reach that far yet is reloaded, at most once per half target duration (``reload``:
        now, for a failover that has no other way to go on)."""
        want = self.reference.segments[index]
        if variant == self._followed:
            return want
        era = self._eras.of_index(index)
        try:
            media = self._variant_media(variant)
            found = self._in_era(variant, media, want, era)
            behind = not media.segments or media.segments[-1].sequence < want.sequence
            if found is None and (behind or self._eras.reached[variant] < era):
                now = self.clock()
                last = self._reloaded.get(variant, -math.inf)
                if not media.endlist and (reload or now - last >= media.target_duration / 2):
                    self._reloaded[variant] = now
                    self.rungs[variant].media = None
                    found = self._in_era(variant, self._variant_media(variant), want, era)
        except KitharaError:  # that playlist failed to load: the followed variant serves
            return None
        return found

    def _variant_media(self, variant: int) -> MediaPlaylist:
        """Another live variant's playlist, its numbering's era noted when it is read."""
        read = self.rungs[variant].media is None
        media = self.media_for(variant)
        if read or variant not in self._eras.reached:
            self._eras.loaded(variant, media)
        return media

    def _in_era(
        self, variant: int, media: MediaPlaylist, want: Segment, era: int
    ) -> Segment | None:
        """``want``'s number in ``media``, only while that playlist is in the same numbering
        (before an origin restart reaches it, its numbers name other audio)."""
        return _by_sequence(media, want.sequence) if self._eras.reached[variant] == era else None

    def _restarted_at(self, index: int) -> None:
        """The live origin restarted at timeline ``index``: the other variants' playlists
        still hold the old numbering, whose numbers now name other audio; they are read anew
        when next asked, and serve only once they have restarted too (``LiveEras``)."""
        self._eras.restarts.append(index)
        for variant, rung in self.rungs.items():
            if variant != self._followed:
                rung.media = None
        self._reloaded.clear()

    def _live_pick(self, variant: int, index: int) -> tuple[int, Segment]:
        """``variant`` and its segment, or the followed variant's where ``variant`` lacks it
        (unless that one sits out after a failure: then ``variant``'s playlist is reloaded
        now rather than at its half target duration)."""
        segment = self._live_segment(variant, index)
        followed = self._followed
        assert followed is not None
        if segment is None and followed in self.controller.excluded(self.clock()):
            segment = self._live_segment(variant, index, reload=True)
        if segment is not None:
            return variant, segment
        return followed, self.reference.segments[index]
