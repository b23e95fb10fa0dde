"""What the decoder reads: a ``DecoderInput``, the one seam between the audio layer and bytes.

A ``stream.ByteStream`` (bytes that are still downloading) is one as it stands; ``FileInput``
adapts a local file object with a plain file's answers (read anywhere, nothing kept, every
byte here, no next part). So the decoder and its reader ask the input, never which kind it is.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import IO, Protocol


class DecoderInput(Protocol):
    """A seekable byte source that never raises into FFmpeg on its own account and tells why a
    read ended early (the members ``stream.ByteStream`` documents)."""

    cancel: Callable[[], bool] | None
    """Asked while a read waits for bytes: True ends the wait as the end of the stream."""

    @property
    def sequential(self) -> bool:
        """Read front to back only: opened as a stream, never seeked inside."""
        ...

    @property
    def failure(self) -> BaseException | None:
        """The first failure a read or seek kept, for the decoder to raise from its loop."""
        ...

    @property
    def source_closed(self) -> bool: ...

    @property
    def stall_waited(self) -> float:
        """Seconds reads stalled on bytes a request under way was to bring: the network's
        time (its own timeouts bound it), which the start bounds do not charge."""
        ...

    @property
    def cancelled(self) -> bool: ...

    def read(self, size: int = -1, /) -> bytes | None: ...

    def seek(self, offset: int, whence: int = io.SEEK_SET, /) -> int: ...

    def tell(self) -> int: ...

    def seekable(self) -> bool: ...

    def ready(self, offset: int, size: int, urgent: bool = False) -> bool:
        """Whether a side read would not wait (if not, it is fetched aside); never raises."""
        ...

    def read_aside(self, offset: int, size: int) -> bytes:
        """What is already here from ``offset``, without waiting or moving the reader."""
        ...

    def continuation(self) -> tuple[DecoderInput, float | None] | None:
        """The next part, for a source that comes in parts, and its timeline start where it
        overlaps the audio before it (None: it goes on where that ended)."""
        ...


class FileInput:
    """A local file object as a ``DecoderInput``: its bytes are all here, it has one part."""

    sequential = False
    source_closed = False
    cancelled = False
    stall_waited = 0.0  # every byte is here: a read never waits on a network

    def __init__(self, file: IO[bytes] | io.RawIOBase) -> None:
        self._file = file
        self.failure: BaseException | None = None
        """Never set: the reader keeps what a file's read raises."""
        self.cancel: Callable[[], bool] | None = None
        """Not asked: a file's read does not wait for a download."""

    def read(self, size: int = -1, /) -> bytes | None:
        return self._file.read(size)

    def seek(self, offset: int, whence: int = io.SEEK_SET, /) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def seekable(self) -> bool:
        return self._file.seekable()

    def ready(self, offset: int, size: int, urgent: bool = False) -> bool:
        return True

    def read_aside(self, offset: int, size: int) -> bytes:
        """The bytes from ``offset`` (a failure reads as nothing); the position is kept."""
        try:
            here = self._file.tell()
            try:
                return read_span(self, offset, size)
            finally:
                self._file.seek(here)
        except Exception:
            return b""

    def continuation(self) -> tuple[DecoderInput, float | None] | None:
        return None


def read_span(raw: DecoderInput, offset: int, size: int) -> bytes:
    """Up to ``size`` bytes from ``offset`` (fewer at the end); leaves ``raw`` after them."""
    raw.seek(offset)
    chunks = []
    left = size
    while left > 0:
        data = raw.read(left)
        if not data:
            break
        chunks.append(bytes(data))
        left -= len(data)
    return b"".join(chunks)
