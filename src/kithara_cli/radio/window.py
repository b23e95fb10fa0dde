"""LiveWindow: the bytes of an endless stream, kept in a bounded sliding window in memory.

A live stream is read front to back once, so nothing needs keeping for long: bytes more
than ``behind`` below the reader are dropped (a demuxer's probe may step back a little), and
the writer waits while it is ``ahead`` bytes past the reader (a server faster than real time
is slowed by TCP, not buffered without bound). Memory stays under ``behind + ahead`` plus one
chunk however long the stream runs; nothing goes to disk.
"""

from __future__ import annotations

import collections
import threading

from kithara_cli.errors import KitharaError
from kithara_cli.storage import ResourceClosed

BEHIND = 1 << 20
AHEAD = 4 << 20
WRITE_WAIT_SLICE = 0.05


class LiveWindow:
    def __init__(self, *, behind: int = BEHIND, ahead: int = AHEAD) -> None:
        self.behind = behind
        self.ahead = ahead
        self._chunks: collections.deque[bytes] = collections.deque()
        self.start = 0  # offset of the first byte kept
        self.end = 0  # offset after the last byte written
        self.reader = 0
        self._cond = threading.Condition()
        self._closed = False
        self._error: KitharaError | None = None
        self._ended = False

    @property
    def kept(self) -> int:
        return self.end - self.start

    def write(self, data: bytes) -> None:
        """Append ``data``; blocks (in slices, until closed) while too far ahead of the reader."""
        if not data:
            return
        with self._cond:
            while not self._closed and self.end - self.reader > self.ahead:
                self._cond.wait(WRITE_WAIT_SLICE)
            if self._closed:
                raise ResourceClosed("live stream closed")
            self._chunks.append(data)
            self.end += len(data)
            self._trim()
            self._cond.notify_all()

    def _trim(self) -> None:
        floor = self.reader - self.behind
        while self._chunks and self.start + len(self._chunks[0]) <= floor:
            self.start += len(self._chunks.popleft())

    def snapshot(self) -> tuple[int, bytes]:
        """(offset, bytes) of everything kept, without moving the reader."""
        with self._cond:
            return self.start, b"".join(self._chunks)

    def finish(self, error: KitharaError | None = None) -> None:
        """The stream ended for good: a read at the end gets EOF, or raises ``error``."""
        with self._cond:
            self._ended = True
            if error is not None:
                self._error = error
            self._cond.notify_all()

    @property
    def open(self) -> bool:
        """Neither finished nor closed: bytes past ``end`` are still to come (or a reconnect
        is to bring them): a wait for them is the stream's, not its reader's."""
        with self._cond:
            return not (self._closed or self._ended)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._chunks.clear()
            self._cond.notify_all()

    def wait_readable(self, offset: int, size: int, timeout: float | None = None) -> int:
        with self._cond:
            self.reader = max(self.reader, offset) if offset >= self.start else offset
            self._cond.notify_all()
            if not self._cond.wait_for(
                lambda: self._closed or self._ended or offset < self.end,
                timeout,
            ):
                return -1
            if self._closed:
                raise ResourceClosed("live stream closed")
            if offset < self.end:
                if offset < self.start:
                    return 0  # dropped long ago: a live stream cannot go back that far
                return min(size, self.end - offset)
            if self._error is not None:
                raise self._error
            return 0

    def read_at(self, offset: int, size: int) -> bytes:
        with self._cond:
            out = bytearray()
            pos = self.start
            for chunk in self._chunks:
                nxt = pos + len(chunk)
                if nxt > offset and pos < offset + size:
                    out += chunk[max(0, offset - pos) : offset + size - pos]
                if nxt >= offset + size:
                    break
                pos = nxt
            self.reader = max(self.reader, offset + len(out))
            self._trim()
            self._cond.notify_all()
            return bytes(out)
