"""``play --record FILE`` for every source: what plays, written while it plays.

A live radio stream records itself (``radio.LiveStream.attach_recorder``: its audio without
ICY blocks, as it comes). Every other source is recorded by a :class:`RecordingTap` between
it and the decoder, which writes the bytes the decoder reads, in the source's order, each
once:

- progressive: the file's bytes from its first; a whole play records the file itself. A
  read ahead of what is recorded (a demuxer peeking at the tail, a seek forward) is filled
  from what has already downloaded when it can be; else the recording waits for the reads to
  come back. A seek back records nothing new until playback passes the recorded end.
- HLS: the run as the decoder reads it, which is what ``kithara fetch`` writes: the init
  section, then each decrypted segment in order. Where the ABR switches variants, the
  segments actually played are recorded (an fMP4 variant with another init section writes
  it where it changes, as fetch does where a playlist's EXT-X-MAP changes); a seek starts a
  new run and the recording goes on with what plays next. A switch between variants cut
  unalike (2 s segments, then 6 s) reads a segment whose start already played: the decoder
  trims it by timestamp, and the recording is remuxed at the end without those packets
  (``hls.overlap``), so it holds each second once, as it played. When FILE's extension names
  another container than the segments', the recording is remuxed into it at the end
  (``hls.remux``, no re-encoding), as fetch does; a remux that fails keeps the segments'
  own container beside FILE.

Written to ``FILE.part`` and moved into place by ``finish`` (quit, end, Ctrl-C, an error):
never a half file at FILE; nothing recorded leaves nothing. Titles (``TitleChanged``, when
played) go to ``FILE.cue`` at their time in the recording.

A queue (``play URL1 URL2 --record FILE``) records one file per item, as yt-dlp writes one per
video (mpv's ``--stream-record`` overwrote FILE with each item, as kithara did): the first
item that records something gets FILE, the next ``FILE-2``, then ``FILE-3``... (the number
before the suffix: ``show.mp3``, ``show-2.mp3``), each with its CUE sheet. An item that
records nothing (a dead mirror, a local file) takes no number. :class:`RecordFiles` hands the
names out; one is shared by every item of a ``play``.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from kithara_cli.errors import KitharaError
from kithara_cli.events import Event, EventBus
from kithara_cli.events.types import Notice, TitleChanged
from kithara_cli.hls.overlap import PartMark
from kithara_cli.radio.record import Recorder
from kithara_cli.stream import Source

if TYPE_CHECKING:
    from kithara_cli.radio.live import LiveStream

FILL_SLICE = 1 << 20  # bytes copied at a time when a read jumps ahead of the recording
SNIFF_BYTES = 4096


def numbered(base: Path, n: int) -> Path:
    """The name of the ``n``-th recording of a queue: FILE, then FILE-2, FILE-3..."""
    return base if n <= 1 else base.with_name(f"{base.stem}-{n}{base.suffix}")


class RecordFiles:
    """The files of one ``--record FILE`` across a queue (the module docstring)."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self._lock = threading.Lock()
        self._taken = 0

    def claim(self) -> Path:
        """The next item's file (it has something to record)."""
        with self._lock:
            self._taken += 1
            return numbered(self.base, self._taken)

    def release(self, path: Path) -> None:
        """``path``, claimed last, recorded nothing after all: the next item takes its name."""
        with self._lock:
            if self._taken and numbered(self.base, self._taken) == path:
                self._taken -= 1


class PlayRecording:
    """One item's ``--record``: its file is claimed from ``files`` when it has something to
    record. ``tap`` wraps each source the decoder reads; a live stream records itself
    (``record_live``)."""

    def __init__(self, files: RecordFiles | Path, bus: EventBus, *, remux: bool = False) -> None:
        self.files = files if isinstance(files, RecordFiles) else RecordFiles(files)
        self.bus = bus
        self.remux = remux  # HLS: FILE's extension may name another container
        self.origin = 0.0  # the timeline second the recording starts at (HLS: the run's)
        self._lock = threading.Lock()
        self._recorder: Recorder | None = None
        self._head = bytearray()  # the first bytes: which container the recording is
        self._done = False
        self._live = False  # a live stream's recorder takes its titles from the stream
        self._marks: list[PartMark] = []  # HLS: where each run and part starts in the file
        self._unsubscribe = bus.subscribe(self._on_event)

    def record_live(self, live: LiveStream) -> None:
        """A live stream records its own audio (without ICY blocks) and titles from now on."""
        with self._lock:
            if self._done or self._recorder is not None:
                return
            self._live = True
            self._recorder = Recorder(self.files.claim(), byterate=live.byterate)
        live.attach_recorder(self._recorder)

    def tap(self, source: Source, origin: float = 0.0) -> Source:
        """``source`` recorded as the decoder reads it; ``origin``: an HLS run's timeline start."""
        self.mark(origin, run=True)
        return RecordingTap(source, self)

    def mark(self, seconds: float | None, *, run: bool) -> None:
        """A run or a part of one starts here, its audio heard from ``seconds`` (None: a part
        that goes on where the audio before it ended)."""
        with self._lock:
            self._marks.append(PartMark(self.recorded_bytes, seconds, run))

    @property
    def recorded_bytes(self) -> int:
        rec = self._recorder
        return rec.bytes if rec is not None else 0

    def write(self, data: bytes) -> None:
        """From the decoder's thread; after ``finish`` (a read still in flight) ignored."""
        if not data:
            return
        with self._lock:
            if self._done:
                return
            if self._recorder is None:
                convert = self._convert if self.remux else None
                self._recorder = Recorder(self.files.claim(), byterate=None, convert=convert)
            if len(self._head) < SNIFF_BYTES:
                self._head += data[: SNIFF_BYTES - len(self._head)]
            self._recorder.write(data)

    def _on_event(self, event: Event) -> None:
        if isinstance(event, TitleChanged):
            with self._lock:
                if self._recorder is not None and not self._done and not self._live:
                    self._recorder.title(event.title, max(0.0, event.position - self.origin))

    def finish(self) -> list[Path]:
        """The recording in place (and its CUE sheet); [] when nothing was recorded."""
        self._unsubscribe()
        with self._lock:
            self._done = True
            rec = self._recorder
        if rec is None:
            return []
        if rec.bytes == 0:
            rec.abort()
            self.files.release(rec.out)
            return []
        return rec.finish()

    def _convert(self, part: Path, final: Path) -> Path:
        """A remux when FILE's extension names another container than the segments', or
        when the recording holds audio twice (``hls.overlap``)."""
        from kithara_cli.hls.overlap import overlapping_packets
        from kithara_cli.hls.remux import MUXERS, needs_remux, remux
        from kithara_cli.hls.sniff import DEFAULT_EXTENSION, container_of

        container = container_of(bytes(self._head)) if self._head else None
        drop = overlapping_packets(part, self._marks)
        # Audio held twice is left out in FILE's container, or the segments' own when FILE
        # names one PyAV cannot write (``.bin``): remuxed into it under a name that names it.
        own = DEFAULT_EXTENSION.get(container or "", "")
        into: Path | None = final
        if drop and final.suffix.lower() not in MUXERS:
            into = final.with_name(final.name + ".remux" + own) if own in MUXERS else None
        if into is None or not (drop or needs_remux(final, container, False)):
            os.replace(part, final)
            return final
        try:
            remux(part, into, drop)
            if into != final:
                os.replace(into, final)
        except KitharaError as exc:
            kept = final.with_name(final.name + DEFAULT_EXTENSION.get(container or "", ".bin"))
            os.replace(part, kept)
            self.bus.publish(
                Notice(level="warning", message=f"--record: {exc}; kept the segments as {kept}")
            )
            return kept
        part.unlink(missing_ok=True)
        return final


class RecordingTap(Source):
    """``stream.Source`` passing reads through and recording them (the module docstring)."""

    def __init__(self, inner: Source, recording: PlayRecording) -> None:
        self._inner = inner
        self._recording = recording
        self._next = 0  # the next byte of this source to record

    @property
    def sequential(self) -> bool:
        return self._inner.sequential

    def wait_readable(self, offset: int, size: int, timeout: float | None = None) -> int:
        return self._inner.wait_readable(offset, size, timeout)

    def read_at(self, offset: int, size: int) -> bytes:
        data = self._inner.read_at(offset, size)
        if offset > self._next:
            self._fill(offset)
        end = offset + len(data)
        if offset <= self._next < end:
            self._recording.write(data[self._next - offset :])
            self._next = end
        return data

    def _fill(self, upto: int) -> None:
        """Record what has downloaded between the recording's end and a read ahead of it."""
        while self._next < upto:
            chunk = self._inner.read_at(self._next, min(FILL_SLICE, upto - self._next))
            if not chunk:
                return  # not there yet: recorded once the reads come back to it
            self._recording.write(chunk)
            self._next += len(chunk)

    def length(self) -> int | None:
        return self._inner.length()

    def reader_moved(self, offset: int) -> None:
        self._inner.reader_moved(offset)

    def wait_length(self, timeout: float) -> int | None:
        return self._inner.wait_length(timeout)

    def peek_ready(self, offset: int, size: int, urgent: bool = False) -> bool:
        return self._inner.peek_ready(offset, size, urgent)

    def read_aside(self, offset: int, size: int) -> bytes:
        return self._inner.read_aside(offset, size)  # a look ahead: not what plays

    def fetching(self, offset: int) -> bool:
        return self._inner.fetching(offset)

    def continuation(self) -> tuple[Source, float | None] | None:
        nxt = self._inner.continuation()
        if nxt is None:
            return None
        part, seconds = nxt
        self._recording.mark(seconds, run=False)
        return RecordingTap(part, self._recording), seconds
