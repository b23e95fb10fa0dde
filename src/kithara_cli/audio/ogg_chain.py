"""Chained Ogg files: FFmpeg cannot seek in them, so the decoder decodes them from byte 0.

A chained Ogg is several logical streams one after another, each link with its own headers
(an Icecast Ogg mount, or a recording of one). FFmpeg's demuxer stamps each link's packets with
that link's own granule positions (they start again near 0 at every link), and its seek
bisects the file by them: seeking to 0.5 s lands in whichever link has a page near its own
0.5 s, usually the last one, and playback then ends after that link's length. FFmpeg's Ogg
demuxer has no seek across links, and a link's first decoded block in a chain is not what the
same link decodes to alone (Vorbis keeps it, 1024 samples), so a seek by bytes to a link
cannot give the samples the whole file decodes to.

So a chain is seeked the way ``--start`` plays it: open the container again at byte 0, decode
everything (no packet skipped by timestamp: those restart at every link) and drop the samples
before the target. What plays is then exactly what a decode of the whole file gives at that
second. The samples before the target are decoded but neither resampled (at the output's
rate) nor yielded for: a seek to 290 s of a 5-minute chain takes ~0.5 s (Vorbis) to ~0.8 s
(Opus) on a loaded machine; a single-link Ogg is still seeked by FFmpeg. A chain is known
from the file's tail (its last page belongs to another link than its first), read once per
source with its length (never waited for during playback: ``OggChain``); a chain's length is
known only once it has been decoded to its end.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kithara_cli.audio.container import Opened, ogg_duration
from kithara_cli.audio.decoder_input import DecoderInput
from kithara_cli.audio.guard import ReadGuard, open_audio
from kithara_cli.audio.reader import OGG_TAIL, CountingReader

if TYPE_CHECKING:
    from av.audio.stream import AudioStream

# Bytes of pages looked at per audio write while playing (a few ms; the download is read far
# faster than it plays), and at most per read from the source.
SCAN_SLICE = 256 * 1024
_BOS = 0x02  # header_type flag of a link's first page


def walk_pages(buf: bytes, data_seen: bool) -> tuple[int, bool, bool]:
    """The whole Ogg pages at the start of ``buf``: (bytes they take, whether a page that is
    not a BOS has been seen, whether a BOS page follows such a page, i.e. a new link).

    RFC 3533: a link's BOS pages come first, together (one per multiplexed stream), so a BOS
    page after any other page starts a new link of a chain, whatever its serial number. Bytes
    that are no page are skipped to the next capture pattern."""
    pos, n = 0, len(buf)
    while pos + 27 <= n:
        if buf[pos : pos + 4] != b"OggS" or buf[pos + 4] != 0:
            nxt = buf.find(b"OggS", pos + 1)
            if nxt < 0:
                return max(pos, n - 3), data_seen, False  # "OggS" may straddle the end
            pos = nxt
            continue
        head = pos + 27 + buf[pos + 26]
        if head > n:
            break
        end = head + sum(buf[pos + 27 : head])
        if end > n:
            break
        if not buf[pos + 5] & _BOS:
            data_seen = True
        elif data_seen:
            return pos, data_seen, True
        pos = end
    return pos, data_seen, False


def _new_link_in_tail(reader: CountingReader, size: int) -> bool:
    """A link that starts within the tail (its serial maybe the first link's): the tail's
    pages from the first whole one on, a BOS page after another page."""
    start = max(0, size - OGG_TAIL)
    tail = reader.read_aside(start, size - start)
    first = tail.find(b"OggS")
    return first >= 0 and walk_pages(tail[first:], False)[2]


class OggChain:
    """One source's Ogg facts: whether it is a chain, and its length from its tail.

    The tail is read once. During playback it is read only once its bytes are there
    (``tail(..., wait=False)``, asked again as audio is written): over HTTP a small file's
    tail comes with the rest of the download, and a read that waited for it held playback
    from its first audio until the whole download ended. A seek (which needs to know a
    chain) and the end of the stream read it waiting.

    The tail tells a chain whose last link has another serial number than its first. A chain
    whose links reuse one serial (files made with a fixed serial, e.g. FFmpeg's bitexact
    muxer, joined) looks like one link there, whose length is the last link's. So ``scan``
    walks the page headers from byte 0 over what has downloaded (never waiting or fetching
    for it), a slice per audio write and all of it before a seek: a BOS page after the first
    link's pages makes the source a chain. Over HTTP, a seek before the download has reached
    the second link of such a chain is FFmpeg's own (it may land in the wrong link)."""

    def __init__(self, is_ogg: bool) -> None:
        self.is_ogg = is_ogg
        self.known = False
        """The source is a chain of links: seeks decode it from byte 0."""
        self._tail_read = not is_ogg
        self._size: int | None = None
        self._sized = False
        self._scan_at = 0
        self._data_seen = False
        self._scan_done = not is_ogg

    @property
    def pending(self) -> bool:
        """The tail has not been read yet."""
        return not self._tail_read

    @property
    def scanning(self) -> bool:
        """Pages are left to ``scan`` (not all here yet, or not looked at)."""
        return not self._scan_done and not self.known

    def _size_of(self, reader: CountingReader) -> int | None:
        if not self._sized:
            self._sized = True
            self._size = reader.size()  # known by first audio (the first response told it)
        return self._size

    def tail(
        self, reader: CountingReader, stream: AudioStream, *, wait: bool = True
    ) -> float | None:
        """The first time only: the length from the last page (None for a chain, which is
        then ``known``, or when the tail cannot be read, e.g. a source of unknown size).
        Without ``wait``, None and still ``pending`` while the tail's bytes are not there
        (the source fetches them aside, ``stream.Source.peek_ready``)."""
        if self._tail_read:
            return None
        size = self._size_of(reader)
        if size:
            start = max(0, size - OGG_TAIL)
            # Waiting (a seek): fetched aside now, not when the download gets there.
            ready = reader.ready(start, size - start, urgent=wait)
            if not wait and not (ready and reader.ready(0, 27)):
                return None
        self._tail_read = True
        seconds, chained = ogg_duration(reader, stream, size)
        self.known = (
            self.known
            or chained
            or (size is not None and size > 0 and _new_link_in_tail(reader, size))
        )
        return None if self.known else seconds

    def scan(self, reader: CountingReader, *, limit: int | None) -> bool:
        """Walk up to ``limit`` bytes (None: all) of the pages downloaded past the last walk;
        True when this finds the source to be a chain (``known`` from then on)."""
        if not self.scanning:
            return False
        size = self._size_of(reader)
        if not size:
            self._scan_done = True  # a stream of unknown length: nothing to look ahead at
            return False
        budget = size if limit is None else limit
        while budget > 0 and self._scan_at < size:
            want = min(SCAN_SLICE, size - self._scan_at)
            buf = reader.read_aside(self._scan_at, want)
            used, self._data_seen, new_link = walk_pages(buf, self._data_seen)
            if new_link:
                self.known = True
                return True
            if used == 0:
                if self._scan_at + len(buf) >= size:
                    self._scan_done = True  # a few bytes at the end that are no page
                return False  # the next page has not downloaded yet
            self._scan_at += used
            budget -= used
        self._scan_done = self._scan_at >= size
        return False


def reopen_at_start(guard: ReadGuard, raw: DecoderInput, options: dict[str, str]) -> Opened:
    """The same source's container again, from byte 0 (the old one is closed by the caller);
    ``guard.reader`` is the new reader."""
    raw.seek(0)
    guard.new_reader(raw)
    opened, _ = open_audio(guard, "ogg", options)
    return opened
