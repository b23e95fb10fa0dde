"""Response bodies the server writes: a file slice, bytes in memory, an endless loop."""

from __future__ import annotations

import gzip
import zlib
from typing import BinaryIO

from .resource import FileInfo


class Body:
    """Bytes of a response body, read in order (a file slice or an in-memory buffer).

    ``length`` None: no end (an endless stream).
    """

    def __init__(self, length: int | None) -> None:
        self.length = length

    def read(self, n: int) -> bytes:
        raise NotImplementedError

    def close(self) -> None:
        pass


class FileBody(Body):
    def __init__(self, info: FileInfo, first: int, length: int) -> None:
        super().__init__(length)
        self.info = info
        self.first = first
        self._fh: BinaryIO | None = None

    def read(self, n: int) -> bytes:
        if self._fh is None:
            self._fh = open(self.info.path, "rb")  # noqa: SIM115 - closed by close()
            self._fh.seek(self.first)
        return self._fh.read(n)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()


class BytesBody(Body):
    def __init__(self, data: bytes) -> None:
        super().__init__(len(data))
        self._view = memoryview(data)
        self._pos = 0

    def read(self, n: int) -> bytes:
        chunk = bytes(self._view[self._pos : self._pos + n])
        self._pos += len(chunk)
        return chunk


class EndlessBody(Body):
    """A file's bytes over and over: a live mount that never ends."""

    def __init__(self, data: bytes) -> None:
        super().__init__(None)
        self._data = data or b"\0"
        self._pos = 0

    def read(self, n: int) -> bytes:
        out = bytearray()
        while len(out) < n:
            take = self._data[self._pos : self._pos + n - len(out)]
            out += take
            self._pos = (self._pos + len(take)) % len(self._data)
        return bytes(out)


def encode(data: bytes, coding: str) -> bytes:
    return gzip.compress(data, mtime=0) if coding == "gzip" else zlib.compress(data)
