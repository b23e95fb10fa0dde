"""The HLS peer for playback: segments chosen by the ABR, laid out in play order as one stream.

A *run* is one contiguous stretch of the presentation from a start segment on: the init
section, then each segment's (decrypted) bytes in order, whatever variant it came from. The
decoder reads a run through ``stream.ByteStream``; a seek starts a new run (new epoch: the old
run's fetches are cancelled with reason ``epoch``). Sizes are learned as segments land; the
run's length is proven once its last segment is placed. A run is read front to back
(``sequential``), and where the init section changes (a switch between fMP4 variants) the
run is split into parts that the decoder opens one after the other (``_RunPart``). A segment
that fails is taken from another variant (nearest lower bitrate first) before playback gives
up on it; while another variant could serve it, a segment gets 2 attempts, not the whole retry
policy, and the variant that failed sits out of auto ABR for 30 s (``AbrController.exclude``).
The reference timeline's slots are the first variant's segments; another variant cut unalike
serves a slot by media time (``picking``): a longer segment covers later slots too, a shorter
one is followed by the next, from the end of the audio placed, until the slot is covered.

A live playlist is followed on the variant it starts with: a ``LiveFollower`` reloads it and
hands new segments to ``add_segments``, which extends the reference timeline; the run starts
``LIVE_EDGE_SEGMENTS`` before the end and its length is proven only once ENDLIST comes. The
ABR still picks a variant per segment (and a failed one still fails over): another variant's
segment is the one with the same media sequence number (HLS aligns variants by it, as hls.js
assumes), its playlist reloaded when it does not list that one yet; a variant that still
lacks it leaves the segment to the followed variant (after an origin restart the others'
playlists are read anew, and the decoder starts afresh at the first new segment, as at any
discontinuity). A live segment that answers 404 or 410
has expired (playback paused longer than the server's window): the run skips towards the
live edge, and the skipped seconds leave its timeline.
"""

from __future__ import annotations

import collections
import dataclasses
import threading
import time
from collections.abc import Callable
from pathlib import Path

from kithara_cli.abr.controller import AbrController, Decision
from kithara_cli.dl import Downloader
from kithara_cli.errors import DecoderError as DecoderFailure
from kithara_cli.errors import KitharaError, PlaylistError
from kithara_cli.events.types import AbrDecision, BandwidthEstimate, Event, Notice, SegmentLoaded
from kithara_cli.hls.ahead import Ahead
from kithara_cli.hls.id3 import segment_titles
from kithara_cli.hls.loader import Rung, load_media
from kithara_cli.hls.model import MediaPlaylist, Segment
from kithara_cli.hls.picking import (
    LIVE_EDGE_SEGMENTS,
    LOOKUP_TOLERANCE,
    LiveEras,
    VariantPicking,
)
from kithara_cli.hls.playlist import check_supported
from kithara_cli.hls.rerate import MeasuredRates
from kithara_cli.hls.run import _Placed, _Run, _RunPart
from kithara_cli.hls.scheduler import (
    Ask,
    FeedFailed,
    SegmentDone,
    SegmentFetcher,
    SegmentsAdded,
    SegmentWindow,
    check_encryption,
)
from kithara_cli.hls.sniff import audio_format, container_of, frames_for_decoder
from kithara_cli.hls.window import WindowPolicy
from kithara_cli.hls.worker import LiveFollower
from kithara_cli.radio.titles import TitleQueue
from kithara_cli.storage import ResourceClosed, SparseResource
from kithara_cli.stream import Source

# A segment that starts this much before the audio already placed overlaps it (less is the
# rounding of EXTINF durations between variants cut at the same points).
OVERLAP_SECONDS = 0.01


class HlsSource(VariantPicking, Ahead, Source):
    """Implements ``stream.Source`` for an HLS presentation, VOD or live (a live run follows
    the playlist worker's new segments): the current run's first part; ``continuation``
    leads to the next (see ``_RunPart``)."""

    # Each run is read front to back; a seek opens a new run. Seen as seekable, FFmpeg's MP4
    # demuxer reads every fragment of an fMP4 run at open, to index them, so it would wait
    # for the whole run to download before the first audio.
    sequential = True

    def __init__(
        self,
        downloader: Downloader,
        rungs: list[Rung],
        controller: AbrController,
        cache_dir: Path,
        *,
        prefetch: int = 2,
        max_ahead: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not rungs:
            raise PlaylistError("no variant to play")
        self.dl = downloader
        self.bus = downloader.bus
        self.rungs = {r.index: r for r in rungs}
        self.controller = controller
        self.cache_dir = cache_dir
        # Until playback starts, fetch only what first audio needs: a burst of prefetch then
        # would compete for the GIL with the decoder's start-up (PyAV and numpy imports).
        self._started = False
        self.clock = clock
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._fetcher = SegmentFetcher(
            downloader,
            WindowPolicy.for_play(prefetch, max_ahead),
            on_request=controller.note_segment_request,  # the ABR measures each one
        )
        self.keys = self._fetcher.keys
        self._events: collections.deque[Event] = collections.deque(maxlen=10_000)
        self._unsubscribe = self.bus.subscribe(self._events.append)
        self._run: _Run | None = None
        self._epoch = 0
        self._playhead = 0.0
        self._closed = False
        self._thread: threading.Thread | None = None
        self._reference: MediaPlaylist | None = None
        self.current_variant: int | None = None
        self.skip_missing = False  # play --skip-unavailable (``picking._step_over_missing``)
        self.start_variant: str | None = None  # a replay's head: the media playlist it came from
        self.playlist_url: str | None = None  # a media playlist the user named: its URL as given
        self.live = False  # following a live playlist, reloaded as it grows
        self._followed: int | None = None  # the live variant whose playlist is the timeline
        self._reloaded: dict[int, float] = {}  # other live variants: when last reloaded
        self._eras = LiveEras()  # and which numbering each is in, across origin restarts
        self._dead: dict[int, KitharaError] = {}  # playlists that failed to load (``picking``)
        self._follower: LiveFollower | None = None
        self.titles = TitleQueue(covered_only=True)  # landed segments' ID3 titles, by second
        self.rates: MeasuredRates | None = None  # unpriced audio rungs' rates, as fetched
        self._listener: tuple[float, float] | None = None  # unpaced sink: (when, where) it began

    # --- setup ------------------------------------------------------------------------------

    def media_for(self, variant: int) -> MediaPlaylist:
        rung = self.rungs[variant]
        if rung.media is None:
            if variant in self._dead:  # asked once, with the retries: not again (live play
                # asks for each segment: a traceback of this raise only, not one that grows)
                raise self._dead[variant].with_traceback(None)
            rung.media = load_media(self.dl, rung.media_url, label=f"playlist v{variant}")
            check_supported(rung.media)
        return rung.media

    @property
    def reference(self) -> MediaPlaylist:
        assert self._reference is not None
        return self._reference

    @property
    def duration(self) -> float | None:
        """The presentation's length; None while a live playlist may still grow."""
        ref = self.reference
        return None if self.live and not ref.endlist else ref.duration

    def open_run(self, seconds: float) -> float:
        """Start (or restart, for a seek) the stream at the segment holding ``seconds``.

        Returns the start time of that segment: the new run's timeline origin.
        """
        if self._reference is None:
            held = self._cached(None)
            hinted = frozenset(v for v in held if self.rungs[v].media_url == self.start_variant)
            first, self._reference = self._first_media(hinted or held)
            self._publish_decision(first, None)
            self.current_variant = first.to_variant
            segments = self._reference.segments
            if segments:  # the refill, BOLA and abandon rules reason in segments
                self.controller.segment_duration = max(s.duration for s in segments[:8])
            if self._reference.is_live:
                self._start_live(first.to_variant)
                seconds = self._reference.starts[max(0, len(segments) - LIVE_EDGE_SEGMENTS)]
        ref = self.reference
        if not ref.segments and not self.live:  # a live one may list none yet: wait for them
            raise PlaylistError("the playlist has no segments")
        index = ref.segment_at(seconds)
        with self._cond:
            old = self._run
            self._epoch += 1
            path = self.cache_dir / f"run-{self._epoch}.bin"
            window = SegmentWindow(index, self._epoch)
            self._run = _Run(index, SparseResource(path), window, index)
            self._playhead = ref.starts[index]
            if self._listener is not None:  # a seek: the listener starts over there
                self._listener = (self.clock(), self._playhead)
            # A seek: fetch what its first audio needs, the rest once it plays (cached
            # segments land in ms each and would take the GIL from the decoder's restart).
            self._started = self._started and old is None
            self.titles.seek(seconds)  # the title in force there is shown again
            self._cond.notify_all()
        if old is not None:
            self._retire(old)
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="kithara-hls", daemon=True)
            self._thread.start()
        self._fetcher.wake()
        return ref.starts[index]

    def _start_live(self, variant: int) -> None:
        """Follow the live playlist of ``variant``: reloaded by a ``LiveFollower`` (as
        ``kithara fetch`` does), started ``LIVE_EDGE_SEGMENTS`` before its end. It is the
        timeline; segments may still come from other variants (``_live_segment``)."""
        self.live = True
        self._fetcher.live = True
        self._followed = variant
        self.bus.publish(
            Notice(
                level="info",
                message=(
                    f"live playlist: following v{variant} from {LIVE_EDGE_SEGMENTS} segments "
                    "before its end (q or Ctrl-C stops)"
                ),
            )
        )
        url = self.playlist_url or self.rungs[variant].media_url  # asked at, not redirected to
        backups = [self.rungs[i].media_url for i in self._copies(variant)]  # a dead host's
        self._follower = LiveFollower(
            self.dl, self.reference, self._fetcher, url=url, backups=backups
        )
        self._follower.start()

    # --- live feed (the follower's messages) -------------------------------------------------

    def _extend(self, run: _Run, msg: SegmentsAdded | FeedFailed) -> None:
        """New live segments (or the end of the stream) join the reference timeline."""
        if isinstance(msg, FeedFailed):
            run.resource.fail(msg.error)
            return
        segments, ended = msg.segments, msg.ended
        ref = self.reference
        for segment in segments:  # only the new ones: the rest were checked when listed
            check_encryption(segment)
        grown = dataclasses.replace(ref, segments=ref.segments + tuple(segments), endlist=ended)
        self._reference = grown
        if segments and ref.segments and segments[0].sequence <= ref.segments[-1].sequence:
            self._restarted_at(len(ref.segments))  # the origin restarted: numbers start over
        if self._followed is not None:
            self.rungs[self._followed].media = grown
        if ended and run.next_place >= len(grown.segments):
            run.resource.set_total(run.write_pos)

    def _retire(self, run: _Run) -> None:
        # close() and seeks call this from other threads: cancel_all works on a snapshot.
        run.window.cancel_all("epoch")
        run.resource.close()
        try:
            run.resource.path.unlink()
        except OSError:
            pass

    # --- stream.Source ------------------------------------------------------------------------

    def _current(self) -> _Run:
        run = self._run
        if run is None:
            raise ResourceClosed("HLS source closed")
        return run

    def _first_part(self) -> _RunPart:
        return _RunPart(self._current(), 0, 0)

    def wait_readable(self, offset: int, size: int, timeout: float | None = None) -> int:
        return self._first_part().wait_readable(offset, size, timeout)

    def read_at(self, offset: int, size: int) -> bytes:
        return self._first_part().read_at(offset, size)

    def length(self) -> int | None:
        return self._first_part().length()

    def reader_moved(self, offset: int) -> None:
        """Bytes of a run only ever arrive in order: nothing to re-aim."""

    def continuation(self) -> tuple[_RunPart, float | None] | None:
        return self._first_part().continuation()

    def fetching(self, offset: int) -> bool:
        run = self._run
        return run is not None and _RunPart(run, 0, 0).fetching(offset)

    # --- what the player asks ------------------------------------------------------------------

    def playback_started(self) -> None:
        """Lift the start-up prefetch limit."""
        self._started = True
        self._fetcher.wake()

    # --- the scheduler thread -----------------------------------------------------------------

    def _loop(self) -> None:
        while not self._closed:
            msg = self._fetcher.next_message(0.1)
            run = self._run
            if run is None:
                continue
            try:
                if isinstance(msg, SegmentDone):
                    self._take(run, msg)
                    self._measure(msg)
                elif isinstance(msg, (SegmentsAdded, FeedFailed)):
                    self._extend(run, msg)
                self._feed_controller()
                self._place(run)
                self._check_in_flight(run)
                self._schedule(run)
            except KitharaError as exc:
                run.resource.fail(exc)
            except Exception as exc:  # a bug here must surface to the reader, not hang it
                run.resource.fail(PlaylistError(f"HLS scheduler failed: {exc}"))

    def _measure(self, msg: SegmentDone) -> None:
        """An audio rung the master gave no rate for is judged by its bytes (hls.rerate)."""
        if self.rates is not None and msg.outcome.state == "ok":
            moved = self.rates.landed(msg.variant, msg.segment, len(msg.data))
            if moved:
                self.controller.rerate(moved)
                self.bus.publish(self.rates.ladder_info())

    def _feed_controller(self) -> None:
        while self._events:
            try:
                event = self._events.popleft()
            except IndexError:
                break
            self.controller.on_event(event)

    def _place(self, run: _Run) -> None:
        ref = self.reference
        run.pass_skipped(ref)
        while run.next_place in run.ready:
            item = run.ready.pop(run.next_place)
            if isinstance(item, KitharaError):
                raise item
            variant, seg, data = item
            start, end = self._bounds(variant, run.next_place, seg)
            # It starts inside the audio placed and adds nothing past it: a longer segment
            # before it (variants cut unalike) covered it already.
            inside = run.placed and start < run.covered - OVERLAP_SECONDS
            if not inside or end > run.covered + LOOKUP_TOLERANCE:
                self._place_one(run, variant, seg, data, start, end)
            if self._fetch_rest(run):
                return  # the slot's next piece, from the end of the audio placed
            run.next_place += 1
            run.pass_skipped(ref)
            if run.next_place >= len(ref.segments) and (not self.live or ref.endlist):
                run.resource.set_total(run.write_pos)

    def _place_one(
        self, run: _Run, variant: int, seg: Segment, data: bytes, start: float, end: float
    ) -> None:
        """Write one segment's audio to the run: all of slot ``next_place``, or, between
        variants cut unalike, a piece of it or more than it (``_bounds``)."""
        ref = self.reference
        index = run.next_place
        # It starts before the audio placed ends (variants cut unalike: 6 s segments after
        # 2 s ones): a part of its own, which the decoder trims to there by timestamp.
        early = bool(run.placed) and start < run.covered - OVERLAP_SECONDS
        shown = run.covered if early else start  # where its audio is heard from
        resumed = bool(run.placed) and run.placed[-1].index == index  # the slot's next piece
        run.covered = max(run.covered, end)
        plain = self._fetcher.decode(seg, data)
        kind = container_of(plain)
        if kind is None:
            raise DecoderFailure(f"segment {seg.sequence} is not audio we can read: {seg.uri}")
        if run is self._run:
            found = segment_titles(plain, kind)
            for offset, title, url in found:
                self.titles.add(start - run.skew + offset, title, url)
            first = min([0.0, *(offset for offset, _, _ in found)])
            self.titles.cover(start - run.skew + first, end - run.skew)
        plain = frames_for_decoder(plain, kind)
        resource = run.resource
        # A new part where the decoder must start afresh: another init section (a switch
        # between fMP4 variants), TS or packed audio in another codec (a switch, or a
        # discontinuity into an AC-3 break), or a discontinuity (an origin's restart: its
        # timestamps start over, and an fMP4 demuxer drops fragments that go back in time).
        fmt = audio_format(plain, kind)
        new_init = seg.init is not None and seg.init != run.init
        changed = fmt is not None and run.format is not None and fmt != run.format
        discontinuity = ref.segments[index].discontinuity and not resumed
        restart = new_init or changed or discontinuity or early
        if run.placed and restart:
            run.parts.append((run.write_pos, start - run.skew, early))
        run.format = fmt or run.format
        if seg.init is not None and restart:
            init = self._fetcher.init_bytes(seg.init)
            resource.write_at(run.write_pos, init)
            run.write_pos += len(init)
            run.init = seg.init
        resource.write_at(run.write_pos, plain)
        placed = _Placed(index, variant, run.write_pos, len(plain), shown - run.skew, end - shown)
        run.placed.append(placed)
        run.write_pos += len(plain)
        self.bus.publish(
            SegmentLoaded(
                variant=variant, sequence=seg.sequence, bytes=len(plain), duration=seg.duration
            )
        )
        self.bus.publish(BandwidthEstimate(estimate_bps=self.controller.estimator.estimate_bps()))

    def _fetch_rest(self, run: _Run) -> bool:
        """Slot ``next_place`` is covered only in part (a shorter segment of a variant cut
        unalike served it): ask for the segment that holds the end of the audio placed, as
        hls.js does after a level switch, from the variant the ABR names (the last one placed
        where that one already failed this slot). False when there is no rest to fetch."""
        index = run.next_place
        at = self._slot_rest(run, index)
        if at is None:
            return False
        variant = self._choose(index)
        failed = run.failed_variants.get(index, set())
        if variant in failed:
            variant = run.placed[-1].variant
        _, end = self._bounds(variant, index, self._segment(variant, index, at)[1])
        if end <= at + LOOKUP_TOLERANCE:
            return False  # that variant ends there
        self._submit(run, index, variant)
        return True

    def _check_in_flight(self, run: _Run) -> None:
        if not run.window.in_flight:
            return
        now = self.clock()
        self._keep_dead_out(now)
        decision = self.controller.check_in_flight(self._abr_buffer(), now)
        if decision is None:
            return
        self._publish_decision(decision, self.current_variant)
        self.current_variant = decision.to_variant
        if decision.abandon_request is None:
            return
        index = run.window.abandon(decision.abandon_request)
        if index is not None:
            self._submit(run, index, decision.to_variant)

    def _schedule(self, run: _Run) -> None:
        """The scheduler fills the run's window (``WindowPolicy.for_play``); the ABR names
        the variant of each segment as it is submitted."""

        def ask(index: int) -> Ask:
            return self._ask(run, index, self._choose(index))

        self._fetcher.fill(
            run.window,
            run.next_place,
            len(self.reference.segments),
            ask,
            buffered=self.buffered_until() - self._playhead,
            started=self._started,
        )

    def _choose(self, index: int) -> int:
        """The ABR's variant for slot ``index``, now; a switch is published."""
        now = self.clock()
        self._keep_dead_out(now)
        decision = self.controller.choose(self._abr_buffer(), now, self._cached(index))
        if decision.switched:
            self._publish_decision(decision, self.current_variant)
        self.current_variant = decision.to_variant
        return decision.to_variant

    def _publish_decision(self, decision: Decision, from_variant: int | None) -> None:
        event: AbrDecision = self.controller.to_event(decision, from_variant=from_variant)
        self.bus.publish(event)

    def close(self) -> None:
        self._closed = True
        if self._follower is not None:
            self._follower.stop()
        self._unsubscribe()
        with self._cond:
            run = self._run
            self._run = None
        if run is not None:
            self._retire(run)
        if self._thread is not None:
            self._thread.join(timeout=2)
