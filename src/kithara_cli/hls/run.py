"""A playback *run*: one contiguous stretch of the presentation laid out as bytes, and its parts.

The playback source (``source.HlsSource``) fills a run; the decoder reads its parts through
``stream.ByteStream``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kithara_cli.errors import KitharaError
from kithara_cli.hls.model import InitSection, MediaPlaylist, Segment
from kithara_cli.hls.scheduler import SegmentWindow
from kithara_cli.storage import SparseResource
from kithara_cli.stream import Source


@dataclass
class _Placed:
    """One segment written to a run; ``start`` and ``duration``: the span of the timeline
    heard from it (a slot served by a variant with shorter segments has several)."""

    index: int  # segment index in the reference timeline
    variant: int
    offset: int
    size: int
    start: float
    duration: float


@dataclass
class _Run:
    first: int  # reference segment index the run starts at
    resource: SparseResource
    window: SegmentWindow  # what the scheduler has submitted for this run, and in flight
    next_place: int
    write_pos: int = 0
    init: InitSection | None = None
    format: tuple[object, ...] | None = None  # sniff.audio_format of the last segment placed
    placed: list[_Placed] = field(default_factory=list)
    # Where each part after the first starts: (byte offset, timeline seconds, overlaps). A new
    # part starts where the init section changes (a switch between fMP4 variants), the audio
    # codec of TS or packed audio does (``sniff.audio_format``), at a discontinuity, or where
    # a segment starts before the audio placed ends (``overlaps``: the decoder trims it by
    # timestamp; any other part simply goes on where the audio before it ended).
    parts: list[tuple[int, float, bool]] = field(default_factory=list)
    # Segment index -> the variants it already failed from (failover tries the others).
    failed_variants: dict[int, set[int]] = field(default_factory=dict)
    ready: dict[int, tuple[int, Segment, bytes] | KitharaError] = field(default_factory=dict)
    # Segments passed over (live: gone from the server; VOD: ``missing``); their seconds are
    # taken out of the run's timeline (``skew``), so it keeps counting the audio played.
    skipped: set[int] = field(default_factory=set)
    skew: float = 0.0
    gone_in_a_row: int = 0  # live segments gone (404/410) since the last that landed
    # VOD, --skip-unavailable: segments that failed on every variant, skipped (``picking``).
    missing: set[int] = field(default_factory=set)
    # Where the audio placed so far ends on the presentation's timeline: a variant whose
    # segments are longer than the reference's covers the next slots too, one whose segments
    # are shorter only part of its slot, the rest fetched from here (``picking._slot_rest``).
    covered: float = 0.0

    def pass_skipped(self, ref: MediaPlaylist) -> None:
        """Step over the live segments passed over, taking their seconds out (``skew``)."""
        while self.next_place in self.skipped:
            self.skipped.discard(self.next_place)
            self.skew += ref.segments[self.next_place].duration
            self.next_place += 1


class _RunPart(Source):
    """One part of a run as ``stream.Source``: the bytes from one init section to the next.

    FFmpeg's MP4 demuxer takes the codec set-up from the first init section it reads and skips
    any later one, so a switch to an fMP4 variant with another init (another sample rate,
    channel count or codec profile) could not be decoded in one pass. The run is split where
    the init changes; the decoder opens each part on its own and carries on gaplessly
    (``continuation``).
    """

    sequential = True

    def __init__(self, run: _Run, index: int, start: int) -> None:
        self._run = run
        self._index = index
        self._start = start

    def _end(self) -> int | None:
        parts = self._run.parts
        if self._index < len(parts):
            return parts[self._index][0]
        return self._run.resource.total

    def wait_readable(self, offset: int, size: int, timeout: float | None = None) -> int:
        at = self._start + offset
        end = self._end()
        if end is not None and at >= end:
            return 0
        resource = self._run.resource
        if not resource.wait_range(at, at + 1, timeout):
            return -1
        available = resource.available_from(at) - at
        # Read after ``available``: a part's end is recorded before the next init is written,
        # so bytes counted above that belong to a later part are cut off here.
        end = self._end()
        if end is not None and at >= end:
            return 0
        return min(size, available if end is None else min(available, end - at))

    def read_at(self, offset: int, size: int) -> bytes:
        return self._run.resource.read_at(self._start + offset, size)

    def length(self) -> int | None:
        end = self._end()
        return None if end is None else end - self._start

    def reader_moved(self, offset: int) -> None:
        """Bytes of a run only ever arrive in order: nothing to re-aim."""

    def fetching(self, offset: int) -> bool:
        """``stream.Source.fetching``: a segment fetch of the run is under way; its timeouts,
        retries and the ABR's abandons bound a wait for the run's next bytes (a stalled
        server is theirs to judge, not the decoder's hang watchdog)."""
        return bool(self._run.window.in_flight)

    def continuation(self) -> tuple[_RunPart, float | None] | None:
        """The next part, once this one is known to end, and its timeline start where it
        overlaps the audio before it (None: it goes on where that ended; EXTINF durations,
        rounded, would place a discontinuity's part early by their drift)."""
        parts = self._run.parts
        if self._index >= len(parts):
            return None
        offset, seconds, overlaps = parts[self._index]
        return _RunPart(self._run, self._index + 1, offset), seconds if overlaps else None


def _by_sequence(media: MediaPlaylist, sequence: int) -> Segment | None:
    """The segment with this media sequence number, if ``media`` lists it."""
    segments = media.segments
    if not segments:
        return None
    at = sequence - segments[0].sequence
    if 0 <= at < len(segments) and segments[at].sequence == sequence:
        return segments[at]
    return next((s for s in segments if s.sequence == sequence), None)
