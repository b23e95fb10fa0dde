"""An MP4's cover art read as zeros: first audio without waiting for the picture.

A podcast episode's M4A keeps its cover art (hundreds of KB, often megabytes) in the iTunes
item list inside ``moov`` (``moov/udta/meta/ilst/covr/data``), and a faststart file has
``moov`` at its front: FFmpeg's mov demuxer reads the picture whole, into an attached-picture
packet, before the first audio frame (mpv and ffplay wait the same way). kithara never shows
that packet, so ``BlankedSource`` serves the picture's bytes as zeros, at once: the demuxer
reads the same boxes and the same audio (an unreadable picture is only a warning to it), the
download goes from the picture's end on, and the picture comes after the audio.

:func:`cover_art_spans` finds the pictures by the box headers, read the way the demuxer reads
them (the bytes before the pictures are the ones it needs first anyway). A file whose ``moov``
follows its ``mdat`` (not faststart) has it read the same way, once ``mdat``'s header told
where it ends: the demuxer seeks there first too, and reads it over a side request.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from kithara_cli.stream.byte_stream import Source

Way = Literal["order", "past_art", "aside"]
BoxRead = Callable[[int, int, Way], bytes]
"""``(offset, size, way)``: the bytes, waited for. ``order``: the bytes before them are read
in order up to ``offset``; ``past_art``: the bytes before them are a picture's (fetch from
``offset``); ``aside``: they are past the audio (``mdat``), read beside the request that
brings it (a tail request), which stays where it is."""

MAX_BOXES = 256  # children looked at in one box (a hostile file's endless list)
# The boxes on the way to the pictures: moov/udta/meta/ilst/covr (or moov/meta/ilst/covr).
_CHILDREN = {
    b"moov": (b"udta", b"meta"),
    b"udta": (b"meta",),
    b"meta": (b"ilst",),
    b"ilst": (),
}
_DATA_HEADER = 16  # size, "data", type indicator, locale


@dataclass(frozen=True)
class Span:
    """Bytes ``[start, end)`` of the file served as zeros."""

    start: int
    end: int


def cover_art_spans(read: BoxRead, total: int) -> list[Span]:
    """The payloads of the ``covr`` item's ``data`` boxes of an MP4's ``moov``, before or
    after its ``mdat`` (none for anything malformed: the demuxer reads it all). After it, the
    first picture only: the next one's header comes after it over the side request."""
    pos, boxes = 0, 0
    way: Way = "order"
    while pos + 8 <= total and boxes < MAX_BOXES:
        box = _box(read, pos, total, way)
        if box is None or (pos == 0 and box[0] != b"ftyp"):
            return []
        kind, start, end = box
        if kind == b"moov":
            return _within(read, start, end, b"moov", way)
        if kind == b"mdat":
            way = "aside"  # the boxes past the audio: the demuxer's tail request
        pos, boxes = end, boxes + 1
    return []


def _within(read: BoxRead, start: int, end: int, parent: bytes, way: Way) -> list[Span]:
    pos, boxes = start, 0
    while pos + 8 <= end and boxes < MAX_BOXES:
        box = _box(read, pos, end, way)
        if box is None:
            return []
        kind, inner, box_end = box
        if kind == b"covr" and parent == b"ilst":
            return _pictures(read, inner, box_end, way)
        if kind in _CHILDREN[parent]:
            if kind == b"meta":
                inner = _meta_children(read, inner, box_end, way)
            found = _within(read, inner, box_end, kind, way)
            if found:
                return found
        pos, boxes = box_end, boxes + 1
    return []


def _meta_children(read: BoxRead, inner: int, end: int, way: Way) -> int:
    """Where a ``meta`` box's children start: after its version and flags (the ISO full
    box iTunes writes), or at once (QuickTime's plain box, whose first child is ``hdlr``)."""
    if inner + 8 <= end and read(inner, 8, way)[4:8] == b"hdlr":
        return inner
    return inner + 4


def _pictures(read: BoxRead, start: int, end: int, way: Way) -> list[Span]:
    spans: list[Span] = []
    pos = start
    limit = 1 if way == "aside" else MAX_BOXES
    while pos + _DATA_HEADER <= end and len(spans) < limit:
        head = read(pos, _DATA_HEADER, "past_art" if spans else way)
        if len(head) < _DATA_HEADER:
            break
        size, kind = struct.unpack(">I4s", head[:8])
        if kind != b"data" or size < _DATA_HEADER or pos + size > end:
            break  # what FFmpeg stops at too: the pictures before it stand
        if size > _DATA_HEADER:
            spans.append(Span(pos + _DATA_HEADER, pos + size))
        pos += size
    return spans


def _box(read: BoxRead, pos: int, end: int, way: Way) -> tuple[bytes, int, int] | None:
    """A box's type, where its payload starts and where it ends; None if it does not fit."""
    head = read(pos, 8, way)
    if len(head) < 8:
        return None
    size, kind = struct.unpack(">I4s", head)
    inner = pos + 8
    if size == 1:  # a 64-bit size follows
        large = read(pos + 8, 8, way)
        if len(large) < 8:
            return None
        size, inner = struct.unpack(">Q", large)[0], pos + 16
    elif size == 0:  # to the end of its parent
        size = end - pos
    if size < inner - pos or pos + size > end:
        return None
    return kind, inner, pos + size


class BlankedSource(Source):
    """``inner`` with ``spans`` read as zeros, never waited for nor fetched first: a wait
    in one returns at once, and the reader moving into one aims the fetching past it."""

    def __init__(self, inner: Source, spans: list[Span]) -> None:
        self._inner = inner
        self.spans = sorted(spans, key=lambda s: s.start)

    def _span_at(self, offset: int) -> Span | None:
        return next((s for s in self.spans if s.start <= offset < s.end), None)

    def _next_start(self, offset: int) -> int | None:
        return next((s.start for s in self.spans if s.start > offset), None)

    @property
    def sequential(self) -> bool:
        return self._inner.sequential

    def wait_readable(self, offset: int, size: int, timeout: float | None = None) -> int:
        span = self._span_at(offset)
        if span is not None:
            return min(size, span.end - offset)
        got = self._inner.wait_readable(offset, size, timeout)
        nxt = self._next_start(offset)
        return got if got <= 0 or nxt is None else min(got, nxt - offset)

    def read_at(self, offset: int, size: int) -> bytes:
        return self._read(offset, size, self._inner.read_at)

    def read_aside(self, offset: int, size: int) -> bytes:
        return self._read(offset, size, self._inner.read_aside)

    def _read(self, offset: int, size: int, read: Callable[[int, int], bytes]) -> bytes:
        out = bytearray()
        while size > 0:
            span = self._span_at(offset)
            if span is not None:
                want = min(size, span.end - offset)
                part = bytes(want)
            else:
                nxt = self._next_start(offset)
                want = size if nxt is None else min(size, nxt - offset)
                part = read(offset, want)
            out += part
            if len(part) < want:
                break
            offset, size = offset + want, size - want
        return bytes(out)

    def length(self) -> int | None:
        return self._inner.length()

    def reader_moved(self, offset: int) -> None:
        span = self._span_at(offset)
        self._inner.reader_moved(offset if span is None else span.end)

    def wait_length(self, timeout: float) -> int | None:
        return self._inner.wait_length(timeout)

    def continuation(self) -> tuple[Source, float | None] | None:
        return self._inner.continuation()

    def peek_ready(self, offset: int, size: int, urgent: bool = False) -> bool:
        span = self._span_at(offset)
        if span is not None and offset + size <= span.end:
            return True
        return self._inner.peek_ready(offset, size, urgent)

    def fetching(self, offset: int) -> bool:
        return self._span_at(offset) is not None or self._inner.fetching(offset)
