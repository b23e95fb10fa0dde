"""The decoder thread: PyAV demux + decode + resample into a :class:`PcmRing`.

Why a thread of its own: ``source.read`` may block while bytes download, and decoding must run
ahead of the audio callback. The thread decodes one packet at a time and yields the GIL between
frames, so the PortAudio callback is never starved for long.

Timeline: a frame's position is ``(pts - stream.start_time) * time_base`` seconds, so the first
sample of the track is 0 whatever the container's own offset (MP3 encoder delay, MPEG-TS
1.4 s). Every position this module reports (``position_decoded``, seek targets, the ring's
``position_frames``) is on that timeline, in output frames.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import IO, TYPE_CHECKING, Final

from kithara_cli.audio.bounds import DecoderLimits
from kithara_cli.audio.commands import Command, CommandQueue, Reopen, SeekTo
from kithara_cli.audio.container import (
    FAST_SEEK_OPTIONS,
    PROBE_OPTIONS,
    ByteTimeline,
    SourceInfo,
    av,
    describe,
)
from kithara_cli.audio.decoder_input import DecoderInput
from kithara_cli.audio.decoder_source import DecoderSource, Source
from kithara_cli.audio.decoder_status import DecoderStatus
from kithara_cli.audio.guard import ReadGuard, SourceClosed
from kithara_cli.audio.ogg_chain import OggChain
from kithara_cli.audio.ogg_titles import OggTitles
from kithara_cli.audio.pcm_out import Interrupted, PcmOut, Stopped
from kithara_cli.audio.reader import CountingReader
from kithara_cli.audio.ring import PcmRing
from kithara_cli.audio.seeking import Mp3SeekFix, before_preroll, demuxer_seek
from kithara_cli.crash import HangWatchdog, hang_if_asked
from kithara_cli.errors import DecoderError, KitharaError
from kithara_cli.events.types import Event, Notice
from kithara_cli.radio.titles import TitleQueue

if TYPE_CHECKING:
    import logging

    from av.audio.stream import AudioStream
    from av.container import InputContainer
    from av.packet import Packet


def _log() -> logging.Logger:
    import logging  # loaded when something is logged, not on the way to first audio

    return logging.getLogger(__name__)


# Consecutive undecodable packets before the stream is declared broken.
_MAX_BAD_PACKETS = 16
# A stream that ends this much before its declared duration is reported as truncated.
_TRUNCATION_SLACK_SECONDS = 0.5
_TRUNCATION_SLACK_FRACTION = 0.03
# A part that starts this much before the end of what is written overlaps it (``_continue``).
_OVERLAP_SECONDS = 0.01
# A fresh source is decoded from its start (not seeked) when the target is this close.
NO_SEEK_WINDOW_SECONDS = 12.0


class Decoder(DecoderSource, DecoderStatus):
    """Decodes ``source`` into ``ring`` on a thread: float32 at ``out_rate``/``out_channels``.

    Commands (``seek``, ``reopen``, ``stop``) are thread-safe requests carried out by the
    decoder thread. Failures never raise into another thread: they set ``error``, publish a
    ``DecoderError`` event through ``on_event`` and end the thread (``done`` is set).
    """

    def __init__(
        self,
        source: Source,
        ring: PcmRing,
        *,
        out_rate: int,
        out_channels: int,
        on_event: Callable[[Event], None] | None = None,
        format_hint: str | None = None,
        start_at: float = 0.0,
        timeline_origin: float = 0.0,
        linger: bool = True,
        fast_seek: bool = False,
        name: str = "kithara-decoder",
        limits: DecoderLimits | None = None,
        clock: Callable[[], float] = time.monotonic,
        covered: int = 0,
        keep_head: int = 0,
    ) -> None:
        """``covered``: the ring already holds the source's first frames, this many (a head
        kept by the cache, played from 0): they are decoded again and dropped, not written.
        ``keep_head``: keep a copy of the first this many frames written from 0 (``head``)."""
        if ring.channels != out_channels:
            raise ValueError(f"ring has {ring.channels} channels, decoder makes {out_channels}")
        self._ring = ring
        self.rate: Final[int] = out_rate
        self.channels: Final[int] = out_channels
        self._commands = CommandQueue(wake=ring.wake)  # a command ends a blocked ring write
        self._out = PcmOut(
            ring,
            out_rate,
            out_channels,
            interrupted=self._commands.any,
            on_written=self._written,
        )
        self._on_event = on_event
        self._linger = linger
        self._fast_seek = fast_seek
        self._open_options = FAST_SEEK_OPTIONS if fast_seek else PROBE_OPTIONS
        self._error_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._first: Reopen | None = Reopen(source, start_at, format_hint, True, timeline_origin)
        self._limits = limits if limits is not None else DecoderLimits.from_env()
        self._clock = clock
        self._guard = ReadGuard(self._limits, clock, lambda: self._commands.stopped)
        self._guard.complete = self._declared_end_reached
        self._watchdog: HangWatchdog | None = None
        self._covered = covered
        self._through = False  # decode every packet from the start (the covered frames)
        if keep_head > 0:
            self._out.keep_head(keep_head)

        # Public state (written by the decoder thread only).
        self.done = threading.Event()
        """Set when the thread has ended (stop, error, or end of stream without linger)."""
        self.ready = threading.Event()
        """Set once the container is open and ``info``/``duration`` are known."""
        self.first_audio = threading.Event()
        """Set when the first frames of a (re)opened source reach the ring."""
        self.eof = threading.Event()
        """Set while the whole stream has been decoded (cleared by a seek or reopen)."""
        self.error: KitharaError | None = None
        self.info: SourceInfo | None = None
        self.duration: float | None = None
        self.seeks_done = 0
        self.titles = TitleQueue()
        """Chained Ogg links' titles at the timeline second they play (``ogg_titles``)."""
        self._ogg_titles = OggTitles(self.titles)

        # Decoder-thread state.
        self._container: InputContainer | None = None
        self._stream: AudioStream | None = None
        self._reader: CountingReader | None = None
        self._owned_file: IO[bytes] | None = None
        self._raw: DecoderInput | None = None
        self._chain = OggChain(False)
        self._bytes = ByteTimeline(1.0, 0, 0.0)
        self._start_pts = 0
        self._origin = 0.0  # timeline seconds at which the current source's start plays
        self._fresh = True  # nothing demuxed since the container was opened
        self._time_base: float = 0.0
        self._trim_to_duration = False
        # Fast-seeked CBR MP3: the first packet's timestamp is re-derived from its offset.
        self._mp3 = Mp3SeekFix()
        self._pts_shift = 0  # added to the current run's first frame's pts
        self._frames_decoded = 0  # samples decoded from the current source
        self._skipped = False
        self._bad_packets = 0
        self._bad_error = ""
        self._notices = 0
        self._duration_from_tail = False
        self._trust_duration = False
        self._bytes_at_first_audio: int | None = None
        self._max_offset_at_first_audio: int | None = None

    # --- public API --------------------------------------------------------------------------

    def start(self) -> Decoder:
        self._thread.start()
        if self._limits.hang_seconds > 0:
            self._watchdog = HangWatchdog(
                self._progress,
                self._waiting_for_input,
                self._hung,
                limit=self._limits.hang_seconds,
                clock=self._clock,
                name=f"{self._thread.name}-watchdog",
                excused=self._network_stalled,
            ).start()
        return self

    def seek(self, seconds: float) -> None:
        """Request a sample-accurate seek; the ring is cleared by the decoder thread."""
        self._commands.put(SeekTo(max(0.0, float(seconds))))

    def reopen(
        self,
        source: Source,
        start_at: float,
        *,
        format_hint: str | None = None,
        flush: bool = False,
        timeline_origin: float = 0.0,
    ) -> None:
        """Switch to a new source of the same track (an HLS variant switch or a new run).

        The new source's first sample (its container ``start_time``) plays at timeline second
        ``timeline_origin``: an HLS run that begins with the segment starting at 40 s passes
        40.0. Without ``flush`` the ring keeps what is decoded and the new source continues
        seamlessly: samples before the decoded position are dropped (pick ``start_at`` at or
        before ``position_decoded``, e.g. a segment boundary; a later ``start_at`` acts as a
        seek). With ``flush`` it is a seek to ``start_at`` in the new source: the ring is
        cleared and audio before ``start_at`` is decoded and dropped.
        """
        self._commands.put(Reopen(source, float(start_at), format_hint, flush, timeline_origin))

    def stop(self) -> None:
        """Ask the thread to end. A read blocked in a ``stream.ByteStream`` ends within its
        wait slice (0.1 s); another blocking file object ends when its read returns."""
        self._commands.stop()
        if self._watchdog is not None:
            self._watchdog.stop()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread; True if it has ended."""
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    # --- the thread --------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            first, self._first = self._first, None
            assert first is not None  # (the thread runs once)
            try:
                self._open(first.source, first.hint, first.origin)
                self._begin(first.start_at, clear=True)
            except SourceClosed:
                self._after_close()
            hang_if_asked()  # test-only: a deadlock stand-in for the hang watchdog
            self._loop()
        except Stopped:
            pass
        except KitharaError as exc:
            self._fail(exc)
        except Exception as exc:
            self._fail(DecoderError(f"decoder failed: {describe(exc)}"))
        finally:
            if self._watchdog is not None:
                self._watchdog.stop()
            self._close()
            self.done.set()

    def _loop(self) -> None:
        packets: Iterator[Packet[AudioStream]] | None = None
        while True:
            if self._commands.stopped:
                raise Stopped
            cmd = self._commands.take()
            if cmd is not None:
                try:
                    self._execute(cmd)
                except SourceClosed:
                    self._after_close()
                    continue
                packets = self._demux()
                continue
            if packets is None:
                packets = self._demux()
            if self.eof.is_set():
                if not self._linger:
                    return
                self._commands.wait(0.1)
                continue
            try:
                packet = next(packets)
            except StopIteration:
                try:
                    self._guard.raise_kept()
                    if self._continue():
                        packets = self._demux()
                    else:
                        self._finish()
                except Interrupted:
                    pass
                except SourceClosed:
                    self._after_close()
                continue
            except KitharaError:
                raise
            except Exception as exc:
                try:
                    self._guard.raise_kept()
                except SourceClosed:
                    self._after_close()
                    continue
                raise DecoderError(f"cannot read the stream: {describe(exc)}") from exc
            try:
                decoded = self._decode_packet(packet)
            except Interrupted:
                continue
            # (A skipped packet took microseconds; one dropped before a target played nothing.)
            if decoded and self._out.out_pos >= self._out.drop_until:
                time.sleep(0)  # let the audio callback have the GIL between packets

    def _execute(self, cmd: Command) -> None:
        match cmd:
            case SeekTo(seconds):
                self._out.drop_head()
                self._seek(seconds, clear=True)
                self.seeks_done += 1
            case Reopen(source, start_at, hint, flush, origin):
                self._out.drop_head()
                self._close()
                self._open(source, hint, origin)
                # (Past what is decoded, a seamless reopen is a seek all the same.)
                if flush or start_at > self._out.written_end / self.rate + 0.01:
                    self._begin(start_at, clear=True)
                else:
                    self._begin(start_at, clear=False, drop_before=self._out.written_end)

    def _begin(self, start_at: float, *, clear: bool, drop_before: int | None = None) -> None:
        """Position a freshly opened container at ``start_at`` (timeline seconds)."""
        if clear:
            self._seek(start_at, clear=True)
            return
        assert drop_before is not None
        self._ring.mark_eos(False)
        self._seek_container(start_at)
        self._out.drop_until = drop_before
        self._reset_stream_state()

    def _seek(self, target: float, *, clear: bool) -> None:
        reader = self._reader
        if (
            self.first_audio.is_set()
            and reader is not None
            and self._chain.scan(reader, limit=None)
        ):
            self._chain_found()  # a length from the tail was its last link's: no clamp by it
        if self.duration is not None:
            target = min(target, self._origin + self.duration)
        target_frame = round(target * self.rate)
        # The first seek of a covered start leaves the ring (its head plays) and drops that much.
        covered, self._covered = self._covered, 0
        self._through = covered > 0
        if clear:
            if not covered:
                self._ring.clear(base_frame=target_frame)
            self._ogg_titles.seek(target)
        self._out.written_end = target_frame + covered
        self._out.drop_until = target_frame + covered
        self.eof.clear()
        self._seek_container(target)
        self._bytes = ByteTimeline(self._time_base, self._start_pts, self._origin)
        self._reset_stream_state()

    def _seek_container(self, target: float) -> None:
        """Position the demuxer a little before timeline second ``target``.

        A freshly opened source whose target is near its start is not seeked at all: decoding
        from the start and dropping is cheaper than a demuxer seek, which may read far ahead
        (an HLS run starts at the segment holding the target, and only its bytes exist).
        """
        relative = target - self._origin
        if self._fresh and relative <= NO_SEEK_WINDOW_SECONDS:
            return
        if self._reader is not None and self._reader.sequential:
            return  # cannot seek a stream: decode from here, the frames before are dropped
        self._read_ogg_duration()  # (once) is it a chain, which FFmpeg cannot seek?
        if self._chain.known:
            if not self._fresh:
                self._rewind()
            return
        container, stream = self._container, self._stream
        assert container is not None and stream is not None
        demuxer_seek(
            container,
            stream,
            relative,
            start_pts=self._start_pts,
            time_base=self._time_base,
            after_error=self._guard.raise_kept,
        )
        self._fresh = False
        self._pts_shift = 0
        self._mp3.armed = self._fast_seek and container.format.name == "mp3"

    def _reset_stream_state(self) -> None:
        self._bad_packets = 0
        self._out.reset(
            round((self._origin + self.duration) * self.rate)
            if self._trim_to_duration and self.duration is not None
            else None
        )

    def _decode_packet(self, packet: Packet[AudioStream]) -> bool:
        """Decode ``packet`` into the ring; False when it was skipped (before a target)."""
        self._fresh = False
        self._bytes.note(packet)
        out = self._out
        self._ogg_titles.packet(packet, None if out.need_t0 else out.out_pos / self.rate)
        if self._mp3.armed:
            assert self._reader is not None
            self._pts_shift = self._mp3.shift(self._reader, packet, self._time_base)
            if self._pts_shift and self.duration is not None and self._out.end_limit is None:
                # FFmpeg cuts the end padding by its own (shifted) timestamps: cut by ours.
                self._out.end_limit = round((self._origin + self.duration) * self.rate)
        # (Not in Ogg: a chain's timestamps start again at each link; its seeks land close.)
        skip = out.need_t0 and not self._chain.is_ogg and not self._through
        if skip and before_preroll(packet, self._seconds_at, out.drop_until / self.rate):
            self._skipped = True  # far enough before the target: not even decoded
            return False
        try:
            frames = packet.decode()
        except av.error.FFmpegError as exc:
            self._bad_packets += 1
            if self._bad_packets > _MAX_BAD_PACKETS:
                raise DecoderError(f"undecodable stream: {describe(exc)}") from exc
            self._bad_error = describe(exc)
            return True
        if self._bad_packets:  # a run of undecodable packets just ended
            self._tell_bad_run()
            self._bad_packets = 0
        for frame in frames:
            self._emit(frame)
        return True

    def _tell_bad_run(self) -> None:
        """A run of undecodable packets just ended. One alone (a stream joined mid-frame, a
        station splicing files with their ID3 tags) costs one frame: the log has it. A longer
        run is audible: a note says so, at most three times."""
        run = self._bad_packets
        _log().info("skipped %d undecodable packet(s): %s", run, self._bad_error)
        if run > 1 and self._notices < 3:
            self._notices += 1
            message = f"skipped {run} undecodable packets ({self._bad_error})"
            self._publish(Notice(level="warning", message=message))

    def _emit(self, frame: av.AudioFrame) -> None:
        self._frames_decoded += frame.samples
        self._guard.bounds.audio()
        out = self._out
        if out.need_t0:
            out.start_at(None if frame.pts is None else self._seconds_at(frame.pts))
        elif frame.sample_rate == self.rate and out.out_pos + frame.samples <= out.drop_until:
            out.out_pos += frame.samples  # dropped whole: at the same rate, no resampler state
            return
        out.emit(frame)

    def _seconds_at(self, pts: int) -> float:
        """Timeline second of a timestamp of the current source's stream."""
        return self._origin + (pts + self._pts_shift - self._start_pts) * self._time_base

    def _continue(self) -> bool:
        """At the end of one part of a source that goes on in another (an HLS run across an
        fMP4 init change), open the next part and carry on where the last sample was written.

        HLS segments meet sample for sample, and the new part's priming is trimmed by its own
        edit list, so the timeline simply continues: no ring flush, no gap, no overlap. A part
        that starts before what is written (variants cut unalike) is placed by its timestamps
        instead, and its audio up to there dropped: the overlap is not played twice.
        """
        nxt = self._raw.continuation() if self._raw is not None else None
        if nxt is None:
            return False
        source, overlap_at = nxt
        out = self._out
        out.drain()  # the old part's last samples first
        written = out.written_end
        self._close()
        seconds = written / self.rate if overlap_at is None else overlap_at
        self._open(source, None, seconds)
        out.drop_until = written
        self._reset_stream_state()
        self._fresh = False
        if seconds < written / self.rate - _OVERLAP_SECONDS:
            return True  # (need_t0: the first frame's timestamp places it)
        out.need_t0 = False
        out.out_pos = written
        return True

    def _finish(self) -> None:
        """End of input: flush the resampler, check for truncation, mark end of stream."""
        self._out.drain()
        if self._duration_from_tail or self._chain.scanning:
            self._read_ogg_duration()  # an Ogg's tail and pages not yet seen: all here now
        if not self._frames_decoded and not self._skipped:  # (skipped: a seek to the end)
            raise DecoderError("no audio could be decoded from the stream")
        if self.duration is not None and self._trust_duration:
            decoded = self._out.written_end / self.rate - self._origin
            slack = max(_TRUNCATION_SLACK_SECONDS, _TRUNCATION_SLACK_FRACTION * self.duration)
            if decoded < self.duration - slack:
                raise DecoderError(
                    f"the stream ended early at {decoded:.1f} s of {self.duration:.1f} s "
                    "(truncated input?)"
                )
        if self._chain.known and self.duration is None:  # a chain decoded from byte 0
            self._set_duration(self._out.out_pos / self.rate - self._origin)
        self._out.end_head()
        self._ring.mark_eos()
        self.eof.set()
