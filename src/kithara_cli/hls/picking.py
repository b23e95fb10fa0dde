"""Which variant and segment serve a slot in playback: failover after a failure, on a live
stream the segment with the same media sequence number in another variant's playlist, between
VOD variants cut unalike the segment by media time (the one holding the end of the audio
placed), the variants the persistent cache holds a segment of, and what a replay's head was
read from.

A mixin of ``source.HlsSource``: the attributes declared below are the source's own.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kithara_cli.abr.controller import AbrController, Decision
from kithara_cli.errors import HttpStatusError, KitharaError
from kithara_cli.events import EventBus
from kithara_cli.events.types import Notice
from kithara_cli.hls.loader import LOAD_FAILURES, Rung
from kithara_cli.hls.model import MediaPlaylist, Segment
from kithara_cli.hls.run import _by_sequence, _Run
from kithara_cli.hls.scheduler import MAX_GONE_IN_A_ROW, Ask, SegmentDone, SegmentFetcher
from kithara_cli.hls.sequence import SequenceTracker

# Segments missing on every variant skipped in a row before playback gives up on the stream.
MAX_MISSING_IN_A_ROW = 3

if TYPE_CHECKING:
    from kithara_cli.dl import Downloader

# Where live playback starts: this many segments before the end of the playlist (as
# ``kithara fetch``'s default ``--live-edge``; hls.js's liveSyncDurationCount is 3 too).
LIVE_EDGE_SEGMENTS = 3
# Attempts at a segment while another variant could still serve it.
FAILOVER_ATTEMPTS = 2
# Variants cut unalike: a segment that would add less than this past the audio placed is not
# the next one to fetch (rounding of EXTINF durations and AAC frames between variants).
LOOKUP_TOLERANCE = 0.05


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
    _fetcher: SegmentFetcher
    skip_missing: bool  # play --skip-unavailable: a VOD segment no variant serves is a gap
    _dead: dict[int, KitharaError]  # variants whose playlist failed to load: not asked again

    def media_for(self, variant: int) -> MediaPlaylist:
        raise NotImplementedError

    def _first_media(self, cached: frozenset[int]) -> tuple[Decision, MediaPlaylist]:
        """The start variant and its playlist. One whose playlist cannot be loaded (a primary
        stream's host down, a rung the packager dropped) is served by its backup
        (``_stand_in``) or left out and the ABR chooses again, as hls.js and FFmpeg move on
        to another variant; with none left, or a fixed choice, its failure ends it."""
        while True:
            decision = self.controller.choose(0.0, self.clock(), cached)
            try:
                variant, media = self._stand_in(decision.to_variant)
            except LOAD_FAILURES:
                if not self.controller.exclude(decision.to_variant, self.clock()):
                    raise  # already out: nothing else to choose
                continue
            return dataclasses.replace(decision, to_variant=variant), media

    def _vod_media(self, variant: int) -> tuple[int, MediaPlaylist]:
        """``variant`` (or its backup) and its playlist; where neither loads, the reference
        timeline's variant, which serves in its place while the variant sits out."""
        try:
            return self._stand_in(variant)
        except LOAD_FAILURES:
            self.controller.exclude(variant, self.clock())
        ref = self.reference
        return next(i for i, r in self.rungs.items() if r.media is ref), ref

    def _stand_in(self, variant: int) -> tuple[int, MediaPlaylist]:
        """``variant`` and its playlist, else the first of its redundant copies (RFC 8216
        6.2.3: the same BANDWIDTH and CODECS, another URI, listed after it; the ABR's ladder
        keeps one rung per rate, so only here is a backup ever reached) whose playlist
        loads. A playlist that failed is not asked again (``_dead``); raises its error."""
        failure: KitharaError | None = None
        for index in (variant, *self._copies(variant)):
            try:
                media = self.media_for(index)
            except LOAD_FAILURES as exc:
                failure = failure or exc
                if index not in self._dead:
                    self._dead[index] = exc
                    self.bus.publish(
                        Notice(
                            level="warning",
                            message=f"v{index} left out: its playlist failed ({exc})",
                        )
                    )
                continue
            return index, media
        assert failure is not None
        raise failure

    def _keep_dead_out(self, now: float) -> None:
        """A variant whose playlist failed, as did every copy of it, stays out of the ABR's
        picks: its exclusion is renewed before each pick. Before, it lapsed after 30 s and the
        ABR switched to it ("v0 -> v1") while the reference variant served in its place
        (``_vod_media``; live, the followed one): the ABR's state and lines named a variant
        that played nothing."""
        for variant in self._dead:
            if all(c in self._dead for c in self._copies(variant)):
                self.controller.exclude(variant, now)

    def _copies(self, variant: int) -> list[int]:
        """``variant``'s redundant copies (the same BANDWIDTH and CODECS), in the master's
        order: its backup streams."""
        rung = self.rungs[variant]
        return [
            r.index
            for r in self.rungs.values()
            if (r.bandwidth, r.codecs) == (rung.bandwidth, rung.codecs) and r.index != variant
        ]

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

    def _take(self, run: _Run, msg: SegmentDone) -> None:
        """A fetch ended: its bytes wait for their turn (``ready``); a failed one is asked of
        another variant (``_failover_variant``) or, live, skipped towards the edge."""
        if not run.window.take(msg):
            return  # an older run's, or an abandoned fetch
        index, variant, seg, outcome, buf = (
            msg.index, msg.variant, msg.segment, msg.outcome, msg.data
        )  # fmt: skip
        if outcome.state == "ok":
            run.gone_in_a_row = 0
            run.ready[index] = (variant, seg, bytes(buf))
        elif outcome.state == "failed":
            assert outcome.error is not None
            error = outcome.error
            if self.live and isinstance(error, HttpStatusError) and error.status in (404, 410):
                run.gone_in_a_row += 1
                if run.gone_in_a_row < MAX_GONE_IN_A_ROW:
                    self._skip_to_live_edge(run, index)
                else:  # every segment missing: the error ends playback, as fetch's
                    error.message = f"{error.message} ({run.gone_in_a_row} live segments in a row)"
                    run.ready[index] = error
                return
            failed = run.failed_variants.setdefault(index, set())
            failed.add(variant)
            if self.controller.exclude(variant, self.clock()) and self.controller.mode == "auto":
                seconds = self.controller.config.failed_exclusion_s
                self.bus.publish(
                    Notice(
                        level="warning",
                        message=f"v{variant} left out for {seconds:.0f} s: a segment failed",
                    )
                )
            other = self._failover_variant(variant, failed, index)
            if other is None:
                if not self._step_over_missing(run, index, seg, error):
                    run.ready[index] = outcome.error
                return
            seq = seg.sequence
            self.bus.publish(
                Notice(
                    level="warning",
                    message=f"segment {seq} v{variant} failed ({outcome.error}); trying v{other}",
                )
            )
            self._submit(run, index, other)

    def _step_over_missing(self, run: _Run, index: int, seg: Segment, error: KitharaError) -> bool:
        """``play --skip-unavailable``: a VOD segment that failed on every variant is skipped
        with a warning, as FFmpeg's HLS demuxer (and so mpv) skips a segment it cannot open;
        its seconds leave the timeline, as a live segment gone does. ``MAX_MISSING_IN_A_ROW``
        in a row is a stream that is gone, not a hole in it: that one ends playback. Without
        the option the segment's error ends playback (exit 4 for a 404), as fetch's does."""
        if not self.skip_missing or self.live:
            return False
        # Failures land out of order (fetches run in parallel): count the whole row around it.
        low, high = index, index
        while low - 1 in run.missing:
            low -= 1
        while high + 1 in run.missing:
            high += 1
        if high - low + 1 > MAX_MISSING_IN_A_ROW:
            return False
        run.missing.add(index)
        run.skipped.add(index)
        self.bus.publish(
            Notice(
                level="warning",
                message=f"segment {seg.sequence} failed on every variant ({error}); "
                f"skipping its {seg.duration:.1f} s",
            )
        )
        return True

    def _submit(self, run: _Run, index: int, variant: int) -> None:
        """Fetch segment ``index`` from ``variant`` now (a failover, an abandon, the rest of
        a slot)."""
        ask = self._ask(run, index, variant)
        self._fetcher.request(run.window, index, ask, demand=index == run.next_place)

    def _ask(self, run: _Run, index: int, variant: int) -> Ask:
        variant, seg = self._segment(variant, index, self._slot_rest(run, index))
        # While another variant could still serve this segment, fail over after a quick retry
        # rather than the whole retry policy (shaka: 2 attempts, then the variant sits out).
        tried = run.failed_variants.get(index, set())
        others = any(v not in tried and v != variant for v in self.rungs)
        return Ask(seg, variant, FAILOVER_ATTEMPTS if others else None)

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

    def _segment(self, variant: int, index: int, at: float | None = None) -> tuple[int, Segment]:
        """The variant that will serve segment ``index`` (``variant`` unless, live, it lacks
        it) and that variant's segment. Variants cut unalike (6 s segments beside 2 s ones)
        are matched by media time, not by index: the segment holding the slot's start, or
        ``at`` (where the audio placed ends inside the slot, ``_slot_rest``)."""
        if self.live:
            return self._live_pick(variant, index)
        variant, media = self._vod_media(variant)
        ref = self.reference
        if media is ref or len(media.segments) == len(ref.segments):
            return variant, media.segments[index]
        t = ref.starts[index] if at is None else at
        return variant, media.segments[media.segment_from(t, LOOKUP_TOLERANCE)]

    def _bounds(self, variant: int, index: int, segment: Segment) -> tuple[float, float]:
        """Where ``segment`` (``variant``'s, serving slot ``index`` of the reference timeline)
        starts and ends on that timeline. Variants are not always cut alike: a longer segment
        covers the slots after it too (not to be played again from another variant), a
        shorter one only part of its slot (the rest is fetched after it, ``_slot_rest``)."""
        ref = self.reference
        media = ref if self.live else self.media_for(variant)
        if media is ref or len(media.segments) == len(ref.segments):
            start = ref.starts[index]
            return start, start + ref.segments[index].duration
        start = media.starts[media.position(segment)]
        return start, start + segment.duration

    def _slot_rest(self, run: _Run, index: int) -> float | None:
        """Where the audio placed ends when that is inside slot ``index`` (a shorter segment
        served the slot's start): the rest of the slot is fetched from there. None when the
        slot is not begun or is covered whole (aligned variants: always)."""
        if self.live or not run.placed:
            return None
        ref = self.reference
        start = ref.starts[index]
        end = start + ref.segments[index].duration
        if start + LOOKUP_TOLERANCE < run.covered < end - LOOKUP_TOLERANCE:
            return run.covered
        return None

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
