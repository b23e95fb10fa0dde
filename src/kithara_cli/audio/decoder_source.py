"""The decoder's source: opening its container (and again at byte 0, for a chained Ogg),
closing it, and what the source tells of its length (an Ogg's last page; the byte rate of a
file with no declared length). A base class of ``decoder.Decoder``, whose attributes are
declared below; the thread, commands and timeline are ``decoder``'s."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import threading
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING

from kithara_cli.audio.chapters import Chapter, container_chapters
from kithara_cli.audio.container import ByteTimeline, SourceInfo
from kithara_cli.audio.decoder_input import DecoderInput, FileInput
from kithara_cli.audio.guard import ReadGuard, open_audio
from kithara_cli.audio.ogg_chain import SCAN_SLICE, OggChain, reopen_at_start
from kithara_cli.audio.ogg_titles import OggTitles
from kithara_cli.audio.pcm_out import PcmOut
from kithara_cli.audio.reader import CountingReader
from kithara_cli.audio.seeking import Mp3SeekFix

if TYPE_CHECKING:
    from av.audio.stream import AudioStream
    from av.container import InputContainer
    from av.packet import Packet

Source = DecoderInput | str | os.PathLike[str]
"""A path is opened as a local file (``FileInput``); a file object comes wrapped in one."""


class DecoderSource:
    """Opening and closing ``Decoder``'s container; see the module docstring."""

    _guard: ReadGuard
    _open_options: dict[str, str]
    _out: PcmOut
    _ogg_titles: OggTitles
    _container: InputContainer | None
    _stream: AudioStream | None
    _reader: CountingReader | None
    _raw: DecoderInput | None
    _owned_file: IO[bytes] | None
    _chain: OggChain
    _bytes: ByteTimeline
    _origin: float
    _fresh: bool
    _mp3: Mp3SeekFix
    _pts_shift: int
    _frames_decoded: int
    _skipped: bool
    _time_base: float
    _start_pts: int
    _duration_from_tail: bool
    _trust_duration: bool
    _trim_to_duration: bool
    _bytes_at_first_audio: int | None
    _max_offset_at_first_audio: int | None
    eof: threading.Event
    ready: threading.Event
    first_audio: threading.Event
    duration: float | None
    info: SourceInfo | None
    chapters: tuple[Chapter, ...] = ()
    """The open container's chapters (``audio.chapters``), on the timeline."""

    def _open(self, source: Source, hint: str | None, origin: float = 0.0) -> None:
        """Open the container with small probing; fall back to probing if the hint lied."""
        self._origin = float(origin)
        self._fresh = True
        self._mp3 = Mp3SeekFix()
        self._pts_shift = 0
        self.eof.clear()
        self._frames_decoded = 0
        self._skipped = False  # packets before a target were left undecoded
        self.first_audio.clear()
        self._bytes_at_first_audio = None
        self._max_offset_at_first_audio = None
        if isinstance(source, (str, os.PathLike)):
            self._owned_file = open(source, "rb", buffering=0)  # noqa: SIM115 (closed in _close)
            raw: DecoderInput = FileInput(self._owned_file)
        else:
            raw = source
        self._raw = raw
        self._reader = self._guard.new_reader(raw)
        opened, is_ogg = open_audio(self._guard, hint, self._open_options)
        self._chain = OggChain(is_ogg)
        self._container = opened.container
        self._stream = opened.stream
        self._ogg_titles.opened(self._container, self._stream, self._origin)
        found = container_chapters(self._container)
        self.chapters = tuple(Chapter(c.start + self._origin, c.title) for c in found)
        self._time_base = opened.time_base
        self._start_pts = opened.start_pts
        self._bytes = ByteTimeline(self._time_base, self._start_pts, self._origin)
        self.duration = opened.duration
        self._duration_from_tail = is_ogg and opened.duration is None
        self._trust_duration = opened.trust_duration
        self._trim_to_duration = opened.trim_to_duration
        self.info = opened.info
        self.ready.set()

    def _close(self) -> None:
        if self._container is not None:
            with contextlib.suppress(Exception):
                self._container.close()
            self._container = None
        if self._owned_file is not None:
            self._owned_file.close()
            self._owned_file = None
        self._out.close()

    def _rewind(self) -> None:
        """Open a chained Ogg again at byte 0, to decode it up to a target (``ogg_chain``)."""
        assert self._container is not None and self._raw is not None
        self._container.close()
        opened = reopen_at_start(self._guard, self._raw, self._open_options)
        self._reader = self._guard.reader
        self._container, self._stream = opened.container, opened.stream
        self._ogg_titles.opened(self._container, self._stream, self._origin)
        self._fresh = True

    def _demux(self) -> Iterator[Packet[AudioStream]]:
        """The open container's packets of its audio stream (``_open`` made both)."""
        assert self._container is not None and self._stream is not None
        return self._container.demux(self._stream)

    def _written(self) -> None:
        """Frames reached the ring: the first ones of a (re)opened source are first audio.
        From then on an Ogg's tail is read as soon as it is there, never waited for."""
        assert self._reader is not None and self._stream is not None
        if not self.first_audio.is_set():
            self._bytes_at_first_audio = self._reader.bytes_read
            self._max_offset_at_first_audio = self._reader.max_offset
            self.first_audio.set()
        if self._duration_from_tail:
            self._set_duration(self._chain.tail(self._reader, self._stream, wait=False))
            self._duration_from_tail = self._chain.pending
        if self._chain.scanning and self._chain.scan(self._reader, limit=SCAN_SLICE):
            self._chain_found()

    def _read_ogg_duration(self) -> None:
        """Ogg's length is in its last page: read it (once, waiting for it) before a seek or
        at the end; the last page also tells a chain of links."""
        assert self._reader is not None and self._stream is not None
        self._duration_from_tail = False
        self._set_duration(self._chain.tail(self._reader, self._stream))
        if self._chain.scan(self._reader, limit=None):  # all that has downloaded
            self._chain_found()

    def _chain_found(self) -> None:
        """Its links reuse a serial: the tail's length was the last link's alone. A chain's
        length is known once decoded to its end (``ogg_chain``)."""
        self.duration = None
        if self.info is not None:
            self.info = dataclasses.replace(self.info, duration=None)

    def _set_duration(self, seconds: float | None) -> None:
        if seconds is not None:
            self.duration = seconds
            if self.info is not None:
                self.info = dataclasses.replace(self.info, duration=seconds)

    def duration_from_bytes(self, total: int) -> float | None:
        """The timeline second at byte ``total`` at the byte rate demuxed so far (a file with
        no declared length, once its size is known; exact for CBR). Any thread."""
        return self._bytes.seconds_for(total)
