"""``ByteStream``: io.RawIOBase over a Source (``wait_readable`` / ``read_at``).

PyAV calls ``read``/``seek`` from inside FFmpeg: an exception raised there is caught by PyAV,
FFmpeg retries or gives up, and PyAV may print it ("exception being dropped") with a
traceback. So nothing raises out of this stream: a closed source reads as the end of the
stream (``source_closed``), any other failure is kept (``failure``) for the reader's owner to
raise from its own loop, and a blocked wait polls ``cancel`` so its owner can end it.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable
from typing import Protocol

from kithara_cli.storage import ResourceClosed

# How long one wait for bytes blocks before ``cancel`` is asked again.
WAIT_SLICE = 0.1
# A wait on the network longer than this is a stall (``stall_waited``); shorter ones are a
# slow link's ordinary pace.
STALL_GRACE = 1.0
# How long a seek from the end waits for the length (a progressive source's first response).
LENGTH_WAIT = 30.0
# FFmpeg's ``avio_size`` asks for the length (PyAV answers its AVSEEK_SIZE with -1) by seeking
# to the last byte and straight back, without reading: that seek is a question, and
# priming a fetch there sent a one-byte request on every open. A read there still fetches.
SIZE_PROBE = -1


class Source(Protocol):
    """What a stream reads from: the progressive file peer, or the HLS segment layout.

    Every member is part of the seam: a source implements all of them (subclassing this
    Protocol gives the defaults below: not sequential, no continuation, the length not
    waited for), and nothing probes for one with getattr."""

    @property
    def sequential(self) -> bool:
        """Read front to back only (an HLS run, a live radio stream: a seek opens a new run).
        The decoder then opens it as a stream, so demuxers never index it by reading ahead."""
        return False

    def wait_readable(self, offset: int, size: int, timeout: float | None = None) -> int:
        """Block until bytes at ``offset`` are present; return how many are contiguous there
        (capped at ``size``), 0 when the end is proven at ``offset``, -1 when ``timeout``
        seconds passed first. Raises on failure (``ResourceClosed`` once closed)."""
        ...

    def read_at(self, offset: int, size: int) -> bytes: ...

    def length(self) -> int | None:
        """Total length once proven, else None."""
        ...

    def reader_moved(self, offset: int) -> None:
        """The reader seeked: re-aim fetching at ``offset`` (cheap; no blocking)."""
        ...

    def wait_length(self, timeout: float) -> int | None:
        """The length, waiting up to ``timeout`` for it where a response will tell it (a
        progressive source's first response); the default does not wait."""
        return self.length()

    def continuation(self) -> tuple[Source, float | None] | None:
        """Where a source that comes in parts goes on (an HLS run across an fMP4 init
        change): the next part, and its timeline start where it overlaps the audio before it
        (variants cut unalike), else None (it goes on where that ended); None at the real end
        (the default)."""
        return None

    def peek_ready(self, offset: int, size: int, urgent: bool = False) -> bool:
        """Whether ``[offset, offset + size)`` (clamped to the length) reads without waiting;
        if not, a source that fetches has it fetched aside without moving the reader, so a
        look at the file's tail (Ogg's length) need not hold up playback at its head.
        ``urgent``: a read of them waits next (a seek), so they are fetched aside even where
        the running request would bring them later. The default: True (a read may wait)."""
        return True

    def read_aside(self, offset: int, size: int) -> bytes:
        """What is already here from ``offset`` on (up to ``size``), without waiting, fetching
        or moving the reader, and not recorded by ``--record``: for looking ahead at what has
        downloaded (an Ogg chain's pages). The default: nothing can be looked at aside."""
        return b""

    def fetching(self, offset: int) -> bool:
        """Whether a request under way is to bring the byte at ``offset``: a wait for it is
        then the network's to bound (its inactivity timeout and retries, whose failure reaches
        the read as this source's typed error), not a sign of bytes the decoder cannot use.
        The default: False (nothing is known to be bringing it; a wait counts as the
        decoder's)."""
        return False


class ByteStream(io.RawIOBase):
    """A file-like object PyAV can open; reads block while the bytes download."""

    def __init__(self, source: Source, *, name: str = "") -> None:
        super().__init__()
        self._source = source
        self._pos = 0
        self.name = name
        self.bytes_read = 0
        # A source read front to back (an HLS run: a seek opens a new run) says so; the
        # decoder then opens it as a stream, so demuxers never index it by reading ahead.
        self.sequential = source.sequential
        self.failure: BaseException | None = None
        """The first failure a read or seek met (network, decryption...): raise it later."""
        self.source_closed = False
        """The source was closed under a read (shutdown, or a seek retired its run)."""
        self.cancelled = False
        """A read ended early because ``cancel`` said so."""
        self.cancel: Callable[[], bool] | None = None
        """Asked while a read waits: True ends the wait as the end of the stream."""
        self._stall_waited = 0.0

    @property
    def stall_waited(self) -> float:
        """Seconds reads spent in stalls: a wait for bytes a request under way was to bring
        (``Source.fetching``), past its first ``STALL_GRACE`` seconds. Time the network owed,
        not time the decoder spent; a slow link's short waits are not counted."""
        return self._stall_waited

    def continuation(self) -> tuple[ByteStream, float | None] | None:
        """Where a source that comes in parts goes on (an HLS run across an fMP4 init change):
        a stream over the next part and that part's timeline start; None at the real end."""
        try:
            nxt = self._source.continuation()
        except Exception as exc:
            self._keep(exc)
            return None
        if nxt is None:
            return None
        source, seconds = nxt
        stream = ByteStream(source, name=self.name)
        stream.cancel = self.cancel
        return stream, seconds

    def ready(self, offset: int, size: int, urgent: bool = False) -> bool:
        """``Source.peek_ready``: never waits, never raises (a failure is for a read to meet)."""
        try:
            return self._source.peek_ready(offset, size, urgent)
        except Exception:
            return True

    def read_aside(self, offset: int, size: int) -> bytes:
        """``Source.read_aside``: never waits, never raises (b"" in place of a failure)."""
        try:
            return self._source.read_aside(offset, size)
        except Exception:
            return b""

    @property
    def ended_early(self) -> bool:
        """A read returned the end of the stream that the source did not prove."""
        return self.failure is not None or self.source_closed or self.cancelled

    def _keep(self, exc: BaseException) -> None:
        if isinstance(exc, ResourceClosed):
            self.source_closed = True
        elif self.failure is None:
            self.failure = exc

    def _cancelled(self) -> bool:
        cancel = self.cancel
        if cancel is not None and cancel():
            self.cancelled = True
            return True
        return False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        """The new position; -1 (never an exception) when it cannot be reached."""
        try:
            return self._seek(offset, whence)
        except Exception as exc:
            if not isinstance(exc, (OSError, ValueError)):
                self._keep(exc)
            return -1

    def _seek(self, offset: int, whence: int) -> int:
        if whence == os.SEEK_SET:
            target = offset
        elif whence == os.SEEK_CUR:
            target = self._pos + offset
        elif whence == os.SEEK_END:
            target = self._length() + offset
        else:
            raise ValueError(f"bad whence {whence}")
        if target < 0:
            raise OSError("negative seek position")
        if target != self._pos:
            self._pos = target
            if not (whence == os.SEEK_END and offset == SIZE_PROBE):
                self._source.reader_moved(target)
        return self._pos

    def _length(self) -> int:
        length = self._source.length()
        # A progressive source learns it from its first response: wait for that in slices
        # (up to LENGTH_WAIT in all); a call that returns before its slice had its answer
        # (a source that does not wait returns at once).
        waited = 0.0
        while length is None and waited < LENGTH_WAIT:
            if self._cancelled():
                break
            started = time.monotonic()
            length = self._source.wait_length(WAIT_SLICE)
            if time.monotonic() - started < WAIT_SLICE / 2:
                break
            waited += WAIT_SLICE
        if length is None:
            raise OSError("stream length not known yet")
        return length

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        size = len(buffer)
        if size == 0 or self.failure is not None or self.source_closed:
            return 0
        waited = 0.0  # this read's wait on the network so far
        try:
            while True:
                if self._cancelled():
                    return 0
                started = time.monotonic()
                available = self._source.wait_readable(self._pos, size, WAIT_SLICE)
                if available >= 0:
                    break
                if self._source.fetching(self._pos):  # no byte came: a stall past the grace?
                    spent = time.monotonic() - started
                    waited += spent
                    self._stall_waited += max(0.0, min(spent, waited - STALL_GRACE))
                else:
                    waited = 0.0
            if available == 0:
                return 0
            data = self._source.read_at(self._pos, min(size, available))
        except Exception as exc:
            self._keep(exc)
            return 0
        n = len(data)
        buffer[:n] = data
        self._pos += n
        self.bytes_read += n
        return n

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            return self.readall()
        buf = bytearray(size)
        n = self.readinto(buf)
        return bytes(buf[:n])
