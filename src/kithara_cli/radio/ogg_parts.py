"""An Ogg station whose links change sample rate or channels: one part per such link.

An Icecast Ogg mount fed by a pass-through source (ices, oggfwd, a playlist of files) starts a
new link of the chain with each track, and a track can be 48 kHz after a 44.1 kHz one, or
mono speech between stereo songs. FFmpeg as PyAV builds it (8.x) refuses such a link ("Sample
rate change is not supported", then PatchWelcomeError on every read): playback ended there,
exit 5, where mpv and ffplay play on. Links with the same parameters are FFmpeg's to chain
(their titles come as packet side data, ``audio.ogg_titles``).

So :class:`OggLinkParts` looks at the pages as the decoder asks for them: it ends its part
(EOF) just before a BOS page that follows data pages and whose identification header differs
from its part's first one, and hands the rest of the stream on as the next part
(``continuation``). The decoder opens that part afresh where the last one ended (as it does
for an HLS init change): the timeline goes on, the resampler takes the new format, and the
link's title comes with the opened stream's metadata. Only the page headers and a BOS page's
first bytes are read, just ahead of what the decoder asks for, never waiting past the page it
reads. A reconnect cuts a page: its rest is not looked for past where the
next connection starts (``LiveStream.connection_starts``), whose first page is a link's BOS
(Icecast sends the headers first) and may be a link at another rate; bytes that are no page
are skipped to the next ``OggS``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from kithara_cli.stream.byte_stream import Source
from kithara_cli.stream.offset import OffsetSource

BOS = 0x02
HEADER = 27  # an Ogg page's fixed header, before its segment table
ID_BYTES = 40  # of a BOS page's body: enough for each codec's identification fields


def link_format(body: bytes) -> bytes | None:
    """What a decoder is set up by in a link's identification packet (Vorbis, Opus, FLAC):
    channels and sample rate; None for another codec (never a reason to split)."""
    if body.startswith(b"\x01vorbis") and len(body) >= 16:
        return body[:7] + body[11:16]  # channels, rate
    if body.startswith(b"OpusHead") and len(body) >= 16:
        return body[:8] + body[9:10] + body[12:16]  # channels, input rate
    if body.startswith(b"\x7fFLAC") and len(body) >= 31:
        return body[:5] + body[27:30] + bytes([body[30] & 0xF0])  # rate, channels, bits
    return None


class OggLinkParts(OffsetSource):
    """``inner`` (a live Ogg stream) from byte ``start``, ended before a link whose format
    differs from this part's first link; ``continuation`` is the stream from there."""

    def __init__(
        self, inner: Source, start: int = 0, joins: Callable[[], Sequence[int]] = tuple
    ) -> None:
        super().__init__(inner, start)
        self._joins = joins  # where a reconnect's bytes start (a page cut before them)
        self._next_page = start  # where the next page not yet looked at starts
        self._data_seen = False
        self._format: bytes | None = None
        self._scanning = True  # off once the bytes are no pages (nothing to split then)
        self.boundary: int | None = None

    def wait_readable(self, offset: int, size: int, timeout: float | None = None) -> int:
        at = offset + self.start
        if self.boundary is not None and at >= self.boundary:
            return 0
        n = self._inner.wait_readable(at, size, timeout)
        if n <= 0:
            return n
        walked = self._look(at + n, timeout)
        if self.boundary is not None:
            return max(0, min(n, self.boundary - at))  # 0: this part ends here
        if not walked:  # a page whose header is late: read up to it only
            safe = self._next_page - at
            return min(n, safe) if safe > 0 else -1
        return n

    def read_at(self, offset: int, size: int) -> bytes:
        at = offset + self.start
        if self.boundary is not None:
            size = max(0, min(size, self.boundary - at))
        return self._inner.read_at(at, size)

    def continuation(self) -> tuple[Source, float | None] | None:
        if self.boundary is None:
            return self._inner.continuation()
        return OggLinkParts(self._inner, self.boundary, self._joins), None

    def _look(self, until: int, timeout: float | None) -> bool:
        """Walk the pages that start before ``until``; False when a page's header has not
        come in time (reads then stop at that page)."""
        while self._scanning and self.boundary is None and self._next_page < until:
            pos = self._next_page
            head = self._peek(pos, HEADER, timeout)
            if head is None:
                return False
            if len(head) < HEADER:
                self._scanning = False  # the end: nothing more to split
                break
            if head[:4] != b"OggS":  # a page cut by a reconnect: on to the next one
                again = head.find(b"OggS", 1)
                self._next_page = pos + (again if again > 0 else HEADER - 3)
                continue
            segments = self._peek(pos + HEADER, head[26], timeout)
            if segments is None:
                return False
            body_at = pos + HEADER + len(segments)
            end = body_at + sum(segments)
            cut = [at for at in self._joins() if pos < at < end]
            if cut:  # a page the connection's drop cut: the next connection's come next
                self._next_page = cut[0]
                continue
            if head[5] & BOS:
                body = self._peek(body_at, min(ID_BYTES, sum(segments)), timeout)
                if body is None:
                    return False
                found = link_format(body)
                if self._data_seen and found != self._format:
                    self.boundary = pos
                    break
                self._format = self._format or found
            else:
                self._data_seen = True
            if self._inner.wait_readable(end - 1, 1, 0) < 0:
                break  # its end is still to come: what is here is its (a reconnect's bytes
                # come after it), and it is looked at again, cut or not, when asked past it
            self._next_page = end
        return True

    def _peek(self, pos: int, size: int, timeout: float | None) -> bytes | None:
        """``size`` bytes at ``pos`` (fewer at the end); None if they did not come in time."""
        got = b""
        while len(got) < size:
            n = self._inner.wait_readable(pos + len(got), size - len(got), timeout)
            if n < 0:
                return None
            if n == 0:
                break
            got += self._inner.read_at(pos + len(got), n)
        return got
