"""``ByteStream``: io.RawIOBase over a Source (``wait_readable`` / ``read_at``)."""

from __future__ import annotations

import io
import os
from typing import Protocol


class Source(Protocol):
    """What a stream reads from: the progressive file peer, or the HLS segment layout."""

    def wait_readable(self, offset: int, size: int) -> int:
        """Block until bytes at ``offset`` are present; return how many are contiguous there
        (capped at ``size``), or 0 when the end is proven at ``offset``. Raises on failure."""
        ...

    def read_at(self, offset: int, size: int) -> bytes: ...

    def length(self) -> int | None:
        """Total length once proven, else None."""
        ...

    def reader_moved(self, offset: int) -> None:
        """The reader seeked: re-aim fetching at ``offset`` (cheap; no blocking)."""
        ...


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
        self.sequential = bool(getattr(source, "sequential", False))

    def continuation(self) -> tuple[ByteStream, float] | None:
        """Where a source that comes in parts goes on (an HLS run across an fMP4 init change):
        a stream over the next part and that part's timeline start; None at the real end."""
        following = getattr(self._source, "continuation", None)
        nxt = following() if following is not None else None
        if nxt is None:
            return None
        source, seconds = nxt
        return ByteStream(source, name=self.name), seconds

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_SET:
            target = offset
        elif whence == os.SEEK_CUR:
            target = self._pos + offset
        elif whence == os.SEEK_END:
            length = self._source.length()
            wait_length = getattr(self._source, "wait_length", None)
            if length is None and wait_length is not None:
                length = wait_length()  # a progressive source learns it from its first response
            if length is None:
                raise OSError("stream length not known yet")
            target = length + offset
        else:
            raise ValueError(f"bad whence {whence}")
        if target < 0:
            raise OSError("negative seek position")
        if target != self._pos:
            self._pos = target
            self._source.reader_moved(target)
        return self._pos

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        size = len(buffer)
        if size == 0:
            return 0
        available = self._source.wait_readable(self._pos, size)
        if available <= 0:
            return 0
        data = self._source.read_at(self._pos, min(size, available))
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
