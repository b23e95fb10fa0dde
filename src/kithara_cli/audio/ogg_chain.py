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

from typing import IO, Any

from kithara_cli.audio.container import Opened, ogg_duration
from kithara_cli.audio.guard import ReadGuard, open_audio
from kithara_cli.audio.reader import OGG_TAIL, CountingReader


class OggChain:
    """One source's Ogg facts: whether it is a chain, and its length from its tail.

    The tail is read once. During playback it is read only once its bytes are there
    (``tail(..., wait=False)``, asked again as audio is written): over HTTP a small file's
    tail comes with the rest of the download, and a read that waited for it held playback
    from its first audio until the whole download ended. A seek (which needs to know a
    chain) and the end of the stream read it waiting."""

    def __init__(self, is_ogg: bool) -> None:
        self.is_ogg = is_ogg
        self.known = False
        """The source is a chain of links: seeks decode it from byte 0."""
        self._tail_read = not is_ogg
        self._size: int | None = None
        self._sized = False

    @property
    def pending(self) -> bool:
        """The tail has not been read yet."""
        return not self._tail_read

    def tail(self, reader: CountingReader, stream: Any, *, wait: bool = True) -> float | None:
        """The first time only: the length from the last page (None for a chain, which is
        then ``known``, or when the tail cannot be read, e.g. a source of unknown size).
        Without ``wait``, None and still ``pending`` while the tail's bytes are not there
        (the source fetches them aside, ``stream.Source.peek_ready``)."""
        if self._tail_read:
            return None
        if not self._sized:
            self._sized = True
            self._size = reader.size()  # known by first audio (the first response told it)
        size = self._size
        if not wait and size:
            start = max(0, size - OGG_TAIL)
            if not (reader.ready(0, 27) and reader.ready(start, size - start)):
                return None
        self._tail_read = True
        seconds, self.known = ogg_duration(reader, stream, size)
        return seconds


def reopen_at_start(guard: ReadGuard, raw: IO[bytes] | Any, options: dict[str, str]) -> Opened:
    """The same source's container again, from byte 0 (the old one is closed by the caller);
    ``guard.reader`` is the new reader."""
    raw.seek(0)
    guard.new_reader(raw)
    opened, _ = open_audio(guard, "ogg", options)
    return opened
