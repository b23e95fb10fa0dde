"""What the decoder hands PyAV: ``CountingReader``, a file-like that never raises into FFmpeg.

PyAV calls ``read``/``seek`` from inside FFmpeg. An exception there is caught by PyAV; FFmpeg
retries or gives up, and PyAV may print the exception it dropped, with a traceback, to the
user's terminal. So this reader raises nothing: a failure is kept (``failure``), the read
returns the end of the stream, and the decoder raises the kept failure from its own loop.
A ``cancel`` callable ends reads early (stop, a probe bound): PyAV sees the end of the stream.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable
from typing import Any

from kithara_cli.audio.decoder_input import DecoderInput, read_span
from kithara_cli.storage import ResourceClosed

_HINTS: dict[str, str] = {
    "mp3": "mp3",
    "mpeg": "mp3",
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "flac": "flac",
    "audio/flac": "flac",
    "audio/x-flac": "flac",
    "wav": "wav",
    "wave": "wav",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
    "ogg": "ogg",
    "oga": "ogg",
    "opus": "ogg",
    "audio/ogg": "ogg",
    "audio/opus": "ogg",
    "m4a": "mp4",
    "mp4": "mp4",
    "m4b": "mp4",
    "audio/mp4": "mp4",
    "audio/x-m4a": "mp4",
    "aac": "aac",
    "adts": "aac",
    "audio/aac": "aac",
    "audio/aacp": "aac",
    "ts": "mpegts",
    "mpegts": "mpegts",
    "video/mp2t": "mpegts",
}


def demuxer_for_hint(hint: str | None) -> str | None:
    """Map an extension, MIME type or format name to an FFmpeg demuxer name (None: probe)."""
    if not hint:
        return None
    key = hint.strip().lower().split(";")[0].strip().lstrip(".")
    return _HINTS.get(key)


class CountingReader(io.RawIOBase):
    """The file-like PyAV reads: counts bytes, survives side reads, can hide the size.

    Why: ``bytes_read`` and ``max_offset`` prove how little of a download the first audio
    needs; ``hide_size`` keeps FFmpeg's Ogg demuxer from reading the last 64 KB at open (for a
    duration we fetch later); a source whose ``seek(..., SEEK_END)`` fails reports "size
    unknown" instead of raising inside FFmpeg. Nothing raises out of ``read``/``seek``.
    """

    def __init__(self, raw: DecoderInput, cancel: Callable[[], bool] | None = None) -> None:
        super().__init__()
        self._raw = raw
        self._cancel = cancel
        raw.cancel = cancel  # a blocked wait for bytes asks it too
        try:
            self._pos = int(raw.tell())
        except Exception:  # a file object that cannot tell: start at 0
            self._pos = 0
        self._raw_pos = self._pos
        self.bytes_read = 0
        self.max_offset = 0
        self.hide_size = False
        self._failure: BaseException | None = None
        self._closed_under_read = False
        self.cancelled = False
        # A front-to-back source (``ByteStream.sequential``): PyAV gets no seek, so demuxers
        # read it as a stream (MP4 stops indexing at the first fragment).
        self.sequential = raw.sequential

    # --- what ended a read early -------------------------------------------------------------

    @property
    def failure(self) -> BaseException | None:
        """The first failure a read or seek met (the source's typed error, or an OSError)."""
        return self._failure if self._failure is not None else self._raw.failure

    @property
    def source_closed(self) -> bool:
        """The source was closed under a read: shutdown, or a seek retired it."""
        return self._closed_under_read or self._raw.source_closed

    @property
    def stall_waited(self) -> float:
        """Seconds reads stalled on bytes the network was bringing (``DecoderInput``)."""
        return self._raw.stall_waited

    def _keep(self, exc: BaseException) -> None:
        if isinstance(exc, ResourceClosed):
            self._closed_under_read = True
        elif self._failure is None:
            self._failure = exc

    def _cancelled(self) -> bool:
        if self.cancelled:
            return True
        if (self._cancel is not None and self._cancel()) or self._raw.cancelled:
            self.cancelled = True
        return self.cancelled

    # --- io.RawIOBase ------------------------------------------------------------------------

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        if self.sequential:
            return False
        try:
            return bool(self._raw.seekable())
        except Exception:
            return True

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes; ``b""`` at the end, and in place of any exception."""
        if self._failure is not None or self._cancelled():
            return b""
        try:
            if self._raw_pos != self._pos:
                self._raw.seek(self._pos)
                self._raw_pos = self._pos
            data = self._raw.read(size)
        except Exception as exc:
            self._keep(exc)
            return b""
        if data is None:  # a non-blocking raw stream with nothing yet: treat as "try again"
            data = b""
        n = len(data)
        self._pos += n
        self._raw_pos = self._pos
        self.bytes_read += n
        self.max_offset = max(self.max_offset, self._pos)
        return bytes(data)

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """The new position, or -1 (FFmpeg's "cannot"), never an exception."""
        try:
            if whence == io.SEEK_END:
                if self.hide_size:
                    return -1
                pos = int(self._raw.seek(offset, whence))
            else:
                if whence == io.SEEK_CUR:
                    offset += self._pos
                    whence = io.SEEK_SET
                pos = int(self._raw.seek(offset, whence))
        except Exception as exc:
            if not isinstance(exc, (OSError, ValueError)):
                self._keep(exc)
            return -1
        if pos < 0:
            return -1
        self._pos = self._raw_pos = pos
        return pos

    def tell(self) -> int:
        return self._pos

    def size(self) -> int | None:
        """Total length, or None when the source cannot tell."""
        try:
            size = int(self._raw.seek(0, io.SEEK_END))
        except (OSError, ValueError):
            return None
        finally:
            self._raw_pos = -1  # unknown: the next read seeks back to _pos
        return size if size >= 0 else None

    def ready(self, offset: int, size: int, *, urgent: bool = False) -> bool:
        """Whether a side read of ``[offset, offset + size)`` would not wait (and if not, the
        source fetches it aside: ``stream.Source.peek_ready``). A plain file: always."""
        return self._raw.ready(offset, size, urgent)

    def read_aside(self, offset: int, size: int) -> bytes:
        """What is already here from ``offset`` (``stream.Source.read_aside``); a plain file's
        bytes are all here. Never waits; a failure reads as nothing; not counted in
        ``bytes_read`` (what the demuxer needed)."""
        return self._raw.read_aside(offset, size)

    def read_at(self, offset: int, size: int) -> bytes:
        """A side read that does not disturb the position PyAV believes in (the decoder's own
        call: a failure raises here, in the decoder's thread)."""
        out = self._read_raw(offset, size)
        self.bytes_read += len(out)
        return out

    def _read_raw(self, offset: int, size: int) -> bytes:
        self._raw_pos = -1  # unknown: the next read seeks back to _pos
        return read_span(self._raw, offset, size)


OGG_TAIL = 65536  # bytes read from an Ogg file's end for its last pages (FFmpeg's own probe)


def ogg_last_granule(reader: CountingReader, size: int | None) -> tuple[int, int, bool] | None:
    """(serial of the first page, last granule position of that serial or -1, whether the last
    page belongs to another serial: a chained Ogg) from head and tail (``size``: the file's)."""
    head = reader.read_at(0, 27)
    if len(head) < 27 or head[:4] != b"OggS":
        return None
    serial = struct.unpack_from("<I", head, 14)[0]
    if not size:
        return None
    start = max(0, size - OGG_TAIL)
    tail = reader.read_at(start, size - start)
    pos = tail.rfind(b"OggS")
    last_serial: int | None = None
    while pos >= 0:
        if pos + 27 <= len(tail):
            granule, page_serial = struct.unpack_from("<qI", tail, pos + 6)
            if last_serial is None:
                last_serial = page_serial
            if page_serial == serial and granule >= 0:
                return serial, granule, last_serial != serial
        pos = tail.rfind(b"OggS", 0, pos)
    return None if last_serial is None else (serial, -1, last_serial != serial)
