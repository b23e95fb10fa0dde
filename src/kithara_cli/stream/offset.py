"""``OffsetSource``: a source seen from one of its bytes on, as if that byte were the first.

A podcast episode's MP3 often begins with an ID3v2 tag holding its cover art: hundreds of KB,
sometimes megabytes, that FFmpeg reads in full before the first audio frame. Seen from the
tag's end, the decoder asks for audio first and the tag downloads after (or never). Every
offset and the length are shifted; nothing else changes.
"""

from __future__ import annotations

from kithara_cli.stream.byte_stream import Source


class OffsetSource(Source):
    """``inner`` from byte ``start`` on (``start`` is this source's byte 0)."""

    def __init__(self, inner: Source, start: int) -> None:
        self._inner = inner
        self.start = start

    @property
    def sequential(self) -> bool:
        return self._inner.sequential

    def wait_readable(self, offset: int, size: int, timeout: float | None = None) -> int:
        return self._inner.wait_readable(offset + self.start, size, timeout)

    def read_at(self, offset: int, size: int) -> bytes:
        return self._inner.read_at(offset + self.start, size)

    def length(self) -> int | None:
        return self._shifted(self._inner.length())

    def reader_moved(self, offset: int) -> None:
        self._inner.reader_moved(offset + self.start)

    def wait_length(self, timeout: float) -> int | None:
        return self._shifted(self._inner.wait_length(timeout))

    def continuation(self) -> tuple[Source, float | None] | None:
        return self._inner.continuation()

    def peek_ready(self, offset: int, size: int, urgent: bool = False) -> bool:
        return self._inner.peek_ready(offset + self.start, size, urgent)

    def read_aside(self, offset: int, size: int) -> bytes:
        return self._inner.read_aside(offset + self.start, size)

    def fetching(self, offset: int) -> bool:
        return self._inner.fetching(offset + self.start)

    def _shifted(self, total: int | None) -> int | None:
        return None if total is None else max(total - self.start, 0)
