"""The HLS writer for ``kithara fetch``: segments fetched in parallel, written in order.

One consumer of the segment scheduler (``scheduler``): it states its window
(``WindowPolicy.for_fetch``), lets a ``SegmentFetcher`` fill it, and takes its typed
messages; the playback source is the other.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from kithara_cli import interrupt
from kithara_cli.dl import Downloader, Identity
from kithara_cli.errors import (
    Cancelled,
    DecoderError,
    HttpStatusError,
    KitharaError,
    OutputError,
    UnsupportedError,
)
from kithara_cli.events.types import FetchProgress, Notice, SegmentLoaded
from kithara_cli.file.state import ResumeState, load_state, remove_quietly, save_state
from kithara_cli.hls.model import InitSection, MediaPlaylist, Segment
from kithara_cli.hls.resume import (
    SegmentRecord,
    init_entry,
    playlist_digest,
    saved_init,
    still_same,
)
from kithara_cli.hls.scheduler import (
    MAX_GONE_IN_A_ROW,
    Ask,
    FeedFailed,
    Message,
    SegmentDone,
    SegmentFetcher,
    SegmentsAdded,
    SegmentWindow,
)
from kithara_cli.hls.sniff import container_of, frames_for_decoder
from kithara_cli.hls.window import WindowPolicy
from kithara_cli.hls.worker import LiveFollower

HEAD_BYTES = 1 << 19  # of a segment, enough for PyAV to tell its codec, rate and layout


class SegmentFailed(KitharaError):
    """A segment could not be fetched after its retries; names its URL."""

    exit_code = 3


@dataclass
class HlsFetchResult:
    path: Path
    bytes: int
    segments: int
    gaps: list[int] = field(default_factory=list)  # sequence numbers skipped
    container: str | None = None
    seconds: float = 0.0  # the time the fetch took (wall clock)
    interrupted: bool = False
    media_seconds: float = 0.0  # the audio in the file: its segments' EXTINF durations


def _as_int(value: object) -> int:
    """A number from the state file; anything else (a hand-edited or foreign file) is 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


class HlsWriter:
    """Runs one HLS fetch into ``part`` (beside ``out``); see ``run``.

    Segments are submitted as far ahead of the write cursor as ``WindowPolicy.for_fetch``
    allows (the downloader bounds what is actually in flight), held in memory until their
    turn, decrypted and written. A live playlist grows through ``feed`` (the scheduler's
    ``SegmentFeed``), from the playlist follower's thread; a live segment that answers 404
    or 410 (gone from the server's window) is a gap, as with ``--skip-unavailable``.
    """

    def __init__(
        self,
        downloader: Downloader,
        media: MediaPlaylist,
        part: Path,
        state_path: Path,
        *,
        in_flight: int = 16,
        skip_unavailable: bool = False,
        live: bool = False,
        duration_limit: float | None = None,
        first_index: int = 0,
    ) -> None:
        self.dl = downloader
        self.bus = downloader.bus
        self.media = media
        self.part = part
        self.state_path = state_path
        self.skip_unavailable = skip_unavailable
        self.live = live
        self.duration_limit = duration_limit
        self._segments: list[Segment] = list(media.segments[first_index:])
        self._ended = not live
        self._fetcher = SegmentFetcher(downloader, WindowPolicy.for_fetch(in_flight), live=live)
        self.feed = self._fetcher  # where a live playlist's follower hands new segments
        self.keys = self._fetcher.keys
        self._window = SegmentWindow()
        self.container: str | None = None
        self._identities: dict[int, Identity | None] = {}  # fetched, not yet written
        self._records: list[SegmentRecord] = []  # written, in order: what resume checks
        self._gone: set[int] = set()  # live segments that answered 404/410: gaps
        self._formats: dict[InitSection, str | None] = {}  # init -> remux.init_audio_format
        self._head: bytes | None = None  # the output's first segment, probed at a discontinuity
        self._head_format: str | None = None
        self._digest = "" if live else playlist_digest(self._segments)
        # Live, with backup streams: a failed segment's copy there (``LiveFollower.stand_in``)
        self.stand_in: Callable[[Segment], Segment | None] | None = None
        self._stood_in: set[int] = set()  # segments asked of a backup already

    # --- the run ---------------------------------------------------------------------------

    def run(self) -> HlsFetchResult:
        started = time.monotonic()
        next_write, written_bytes, init_written = self._resume()
        mode = "r+b" if written_bytes else "wb"
        try:
            out = self.part.open(mode)
        except OSError as exc:
            raise OutputError(f"cannot write {self.part}: {exc.strerror}") from exc
        out.seek(written_bytes)
        out.truncate()
        if written_bytes:  # resumed: the first segment is the file's head
            self._head = self.part.read_bytes()[:HEAD_BYTES]
        self._window = SegmentWindow(start=next_write)  # resumed: from the first unwritten
        for seg in self._segments if not self.live else ():
            if seg.init is not None and seg.init not in self._formats:
                self._check_init(seg)  # before any segment: a few small requests
        ready: dict[int, bytes | bytearray | KitharaError] = {}
        gaps: list[int] = []
        first_gap_error: KitharaError | None = None
        gone_in_a_row = 0
        seconds_written = sum(s.duration for s in self._segments[:next_write])
        last_save = 0.0
        interrupted = False
        changed = False  # live: the codec changed at a discontinuity, the recording ends there
        try:
            while True:
                interrupt.check()  # Ctrl-C / SIGTERM land here, never mid-write
                stop = self.duration_limit is not None and seconds_written >= self.duration_limit
                if stop or changed:
                    break
                total = len(self._segments)
                self._fetcher.fill(self._window, next_write, total, self._ask)
                if next_write >= total and self._ended:
                    break
                msg = self._fetcher.next_message(0.25)
                if msg is None:
                    continue
                self._take(msg, ready)
                while next_write in ready and not (
                    self.duration_limit is not None and seconds_written >= self.duration_limit
                ):
                    item = ready.pop(next_write)
                    seg = self._segments[next_write]
                    if isinstance(item, KitharaError):
                        gone = next_write in self._gone
                        gone_in_a_row = gone_in_a_row + 1 if gone else 0
                        if not (self.skip_unavailable or gone):
                            raise item
                        if gone_in_a_row >= MAX_GONE_IN_A_ROW:
                            item.message = (
                                f"{item.message} ({gone_in_a_row} live segments in a row)"
                            )
                            raise item
                        first_gap_error = first_gap_error or item
                        gaps.append(seg.sequence)
                        self._records.append(SegmentRecord.of(seg, None))
                        why = ": gone from the live server" if gone else ""
                        self.bus.publish(
                            Notice(level="warning", message=f"skipped segment {seg.sequence}{why}")
                        )
                    else:
                        gone_in_a_row = 0
                        data = self._fetcher.decode(seg, item)
                        kind = container_of(data)
                        if kind is None:  # a web page, an error text: as playback refuses it
                            raise DecoderError(
                                f"segment {seg.sequence} is not audio we can read: {seg.uri}"
                            )
                        data = frames_for_decoder(data, kind)  # a clean .ac3 / .ec3
                        if seg.init is None and self._check_discontinuity(seg, data):
                            changed = True
                            break
                        if self.container is None:
                            self.container = kind
                        if seg.init is not None and seg.init != init_written:
                            self._check_init(seg)
                            init_bytes = self._fetcher.init_bytes(seg.init)
                            out.write(init_bytes)
                            written_bytes += len(init_bytes)
                            init_written = seg.init
                        out.write(data)
                        written_bytes += len(data)
                        seconds_written += seg.duration
                        identity = self._identities.pop(next_write, None)
                        self._records.append(SegmentRecord.of(seg, identity))
                    next_write += 1
                    now = time.monotonic()
                    self._progress(written_bytes, next_write)
                    if now - last_save > 0.25:
                        last_save = now
                        out.flush()
                        self._save(next_write, written_bytes, init_written)
        except KeyboardInterrupt:
            interrupted = True
            if not self.live:
                self._cancel_all("user")
                out.flush()
                self._save(next_write, written_bytes, init_written)
                out.close()
                raise Cancelled.part_kept(self.part) from None
        except OSError as exc:
            self._cancel_all("peer")
            out.close()
            raise OutputError(f"cannot write {self.part}: {exc.strerror}") from exc
        except BaseException:
            self._cancel_all("peer")
            out.flush()
            self._save(next_write, written_bytes, init_written)
            out.close()
            raise
        self._cancel_all("peer")
        try:
            out.close()
        except OSError as exc:
            raise OutputError(f"cannot write {self.part}: {exc.strerror}") from exc
        if first_gap_error is not None and next_write == len(gaps):
            raise first_gap_error  # --skip-unavailable, but nothing at all could be fetched
        return HlsFetchResult(
            path=self.part,
            bytes=written_bytes,
            segments=next_write - len(gaps),
            gaps=gaps,
            container=self.container,
            seconds=time.monotonic() - started,
            interrupted=interrupted,
            media_seconds=seconds_written,
        )

    # --- helpers --------------------------------------------------------------------------

    def _take(self, msg: Message, ready: dict[int, bytes | bytearray | KitharaError]) -> None:
        if isinstance(msg, SegmentDone):
            if not self._window.take(msg):
                return
            index, outcome, buf = msg.index, msg.outcome, msg.data
            seg = self._segments[index]
            if outcome.state == "ok":
                ready[index] = buf  # written as it is: no copy of every segment
                self._identities[index] = outcome.identity
                self.bus.publish(
                    SegmentLoaded(
                        variant=-1, sequence=seg.sequence, bytes=len(buf), duration=seg.duration
                    )
                )
            elif outcome.state == "failed":
                err = outcome.error
                assert err is not None
                if self.live and self._fail_over(index, err):
                    return
                where = "" if seg.uri in str(err) else f" ({seg.uri})"
                failure = SegmentFailed(f"segment {seg.sequence} failed: {err}{where}")
                failure.retryable = err.retryable
                failure.exit_code = err.exit_code  # a 404 exits 4 here as in play
                ready[index] = failure
                if self.live and isinstance(err, HttpStatusError) and err.status in (404, 410):
                    # Left the live window before its turn (or an edge lost it): a gap in the
                    # recording, as playback skips it, not the end of it.
                    self._gone.add(index)
            # cancelled: only happens when we are stopping
        elif isinstance(msg, SegmentsAdded):
            self._segments.extend(msg.segments)
            self._ended = msg.ended
        elif isinstance(msg, FeedFailed):
            raise msg.error

    def _check_init(self, seg: Segment) -> None:
        """Refuse an init section whose audio differs from the first one's (another rate,
        layout or codec at a discontinuity): one MP4 is read with its first init, so the
        segments after it would play at the wrong speed or not at all, with exit 0."""
        from kithara_cli.hls.remux import init_audio_format

        init = seg.init
        assert init is not None
        if init not in self._formats:
            self._formats[init] = init_audio_format(self._fetcher.init_bytes(init))
        first = next(iter(self._formats.values()))
        now = self._formats[init]
        if first is not None and now is not None and now != first:
            raise _cannot_hold(first, now, seg, "EXT-X-MAP")

    def _check_discontinuity(self, seg: Segment, data: bytes | bytearray) -> bool:
        """TS or packed audio (no init to compare before fetching): the first segment after
        an EXT-X-DISCONTINUITY is probed against the output's first. Another codec (AAC then
        MP3 or AC-3, an ad packaged apart) is refused as an init change is: one file is read
        with one decoder, which turns the rest into noise or errors (FFmpeg's -c copy and
        yt-dlp write such a file, exit 0). The same codec at another rate or layout is kept
        (FFmpeg-based players follow ADTS headers) with a warning naming the segment. A live
        recording is not thrown away for it: it ends there, saved, with a warning (True)."""
        if self._head is None:
            self._head = bytes(data[:HEAD_BYTES])
            return False
        if not seg.discontinuity:
            return False
        from kithara_cli.hls.remux import init_audio_format

        if self._head_format is None:
            self._head_format = _named(init_audio_format(self._head))
        first, now = self._head_format, _named(init_audio_format(bytes(data[:HEAD_BYTES])))
        if first is None or now is None or now == first:
            return False
        change = f"the audio changes from {first} to {now} at segment {seg.sequence}"
        if _codec(first) != _codec(now) and not self.live:
            raise _cannot_hold(first, now, seg, "EXT-X-DISCONTINUITY")
        if _codec(first) != _codec(now):
            message = f"live recording stopped: {change} (EXT-X-DISCONTINUITY); saved up to it"
            self.bus.publish(Notice(level="warning", message=message))
            return True
        message = f"{change} (EXT-X-DISCONTINUITY): FFmpeg-based players follow it, others may not"
        self.bus.publish(Notice(level="warning", message=message))
        return False

    def _ask(self, index: int) -> Ask:
        # With a backup stream to turn to, a live segment fails over after a quick retry.
        quick = self.stand_in is not None and index not in self._stood_in
        attempts = LiveFollower.FAILOVER_ATTEMPTS if quick else None
        return Ask(self._segments[index], max_attempts=attempts)

    def _fail_over(self, index: int, err: KitharaError) -> bool:
        """A live segment that failed (not gone: a 404/410 is a gap) is asked once of a
        backup stream (the same media sequence number on another host), as hls.js moves to a
        redundant stream on a fragment error. False: no copy to ask."""
        gone = isinstance(err, HttpStatusError) and err.status in (404, 410)
        if self.stand_in is None or index in self._stood_in or gone:
            return False
        self._stood_in.add(index)
        seg = self._segments[index]
        other = self.stand_in(seg)
        if other is None:
            return False
        self._segments[index] = other
        self.bus.publish(
            Notice(
                level="warning",
                message=f"segment {seg.sequence} failed ({err}): fetching it from the "
                "backup stream",
            )
        )
        self._fetcher.request(self._window, index, self._ask(index), demand=True)
        return True

    def _progress(self, written_bytes: int, done: int) -> None:
        total_segments = None if not self._ended else len(self._segments)
        estimate = None
        if total_segments and done:
            estimate = int(written_bytes / done * total_segments)
        self.bus.publish(
            FetchProgress(
                bytes_done=written_bytes,
                bytes_total=estimate,
                segments_done=done,
                segments_total=total_segments,
            )
        )

    def _cancel_all(self, reason: str) -> None:
        self._window.cancel_all(reason, wait=5)

    # --- resume ---------------------------------------------------------------------------

    def _resume(self) -> tuple[int, int, InitSection | None]:
        if self.live or not self.part.exists():
            remove_quietly(self.state_path)
            return 0, 0, None
        state = load_state(self.state_path)
        extra = state.extra if state is not None else {}
        if (
            state is None
            or state.kind != "hls"
            or not state.belongs_to(self.media.url)
            or extra.get("count") != len(self._segments)
        ):
            return 0, 0, None
        index = _as_int(extra.get("written", 0))
        nbytes = _as_int(extra.get("bytes", 0))
        if nbytes > self.part.stat().st_size or not 0 <= index <= len(self._segments):
            return 0, 0, None
        raw = extra.get("segments")
        records = [SegmentRecord.from_list(r) for r in raw] if isinstance(raw, list) else []
        if extra.get("playlist") != self._digest or len(records) != index or None in records:
            self._starting_over("the playlist changed since the partial download")
            return 0, 0, None
        kept = [r for r in records if r is not None]
        known = [i for i, r in enumerate(kept) if r.identity.known]
        # Asked at today's URI (a signed URL's token may have changed), pinned to then's bytes.
        last = replace(kept[known[-1]], uri=self._segments[known[-1]].uri) if known else None
        if index and (last is None or not still_same(self.dl, last)):
            self._starting_over("segments changed on the server since the partial download")
            return 0, 0, None
        self._records = kept
        init = saved_init(self._segments, extra.get("init"))
        if index:
            self.bus.publish(
                Notice(level="info", message=f"resuming at segment {index} ({nbytes} bytes)")
            )
        return index, nbytes, init

    def _starting_over(self, why: str) -> None:
        self.bus.publish(Notice(level="warning", message=f"{why}: starting over"))

    def _save(self, written: int, nbytes: int, init: InitSection | None) -> None:
        if self.live:
            return
        state = ResumeState(
            url=self.media.url,
            kind="hls",
            extra={
                "count": len(self._segments),
                "written": written,
                "bytes": nbytes,
                "init": init_entry(init),
                "playlist": self._digest,
                "segments": [r.as_list() for r in self._records[:written]],
            },
        )
        try:
            save_state(self.state_path, state)
        except OSError:
            pass


def _named(audio_format: str | None) -> str | None:
    """``mp3float 44100 Hz stereo`` -> ``mp3 44100 Hz stereo`` (FFmpeg's decoder's name)."""
    return audio_format.replace("mp3float ", "mp3 ", 1) if audio_format else None


def _codec(audio_format: str) -> str:
    return audio_format.split(" ", 1)[0]


def _cannot_hold(first: str, now: str, seg: Segment, tag: str) -> UnsupportedError:
    return UnsupportedError(
        f"the audio changes from {first} to {now} at segment {seg.sequence} "
        f"({tag}): one file cannot hold both; "
        "'kithara play URL --output wav:FILE' records it decoded"
    )


def finish_output(part: Path, out: Path) -> None:
    """Move a finished part into place atomically."""
    try:
        os.replace(part, out)
    except OSError as exc:
        raise OutputError(f"cannot write {out}: {exc.strerror}") from exc
