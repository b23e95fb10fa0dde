"""A replay from the cache starts with the head kept beside the entry (``cache.head``).

Why: a fresh replay needs no network, so nothing hides PyAV's import (~75 ms) and the first
decode; the first second of decoded audio, kept from an earlier play, plays while they
happen. The decoder then decodes from byte 0 as always and drops as many frames as the head
covered, so the audio is the same sample for sample. Only a URL played from 0 (no head with
a start position, for a recording or a local file): a progressive file, or an HLS
presentation (VOD; the head is its first segment's audio, at most ``HEAD_SECONDS``, and the
replay starts on that variant, ``HeadStart.variant``). Never for a live stream or an
encrypted first segment: its keys stay in memory, so its audio never lies on disk in the
clear.

A play from 0 that saves nothing yet keeps its first frames as written to the ring
(``HeadKeeper``), and hands them to the cache once whole (off the audio thread; a failure to
save is only logged by the cache).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from kithara_cli.events.types import Notice

if TYPE_CHECKING:  # cache.head loads only when a play asks the cache for a head
    from kithara_cli.audio import Decoder, PcmRing, Sink
    from kithara_cli.cache.head import Head, HeadFormat, HeadVersion
    from kithara_cli.file.source import ProgressiveSource
    from kithara_cli.hls.source import HlsSource

HEAD_SECONDS = 1.0


class HeadLookup(Protocol):
    """What a replay needs of the cache to start from a head."""

    def replay_head(self, url: str) -> Head | None: ...


class HeadCache(HeadLookup, Protocol):
    """What a play needs of the cache for heads (``cache.hook.DiskCache``)."""

    def save_head(self, url: str, version: HeadVersion, fmt: HeadFormat, pcm: bytes) -> None: ...

    def save_head_of(
        self,
        url: str,
        parts: tuple[str, ...],
        fmt: HeadFormat,
        pcm: bytes,
        *,
        variant: tuple[str, str | None],
    ) -> None: ...


def head_allowed(target: str, start_at: float, *, recording: bool) -> bool:
    """May this play start from a head (or keep one)? A URL played from 0, not recorded."""
    return start_at == 0 and not recording and target.startswith(("http://", "https://"))


class HeadStart:
    """A head written to the ring and playing: how much it covers, the HLS variant it came
    from, and whether its first sample went out before PyAV had loaded (``before_av``, told
    with ``PlaybackStarted``)."""

    def __init__(self, frames: int, seconds: float, variant: str | None = None) -> None:
        self.frames = frames
        self.seconds = seconds
        self.variant = variant
        self.av_loaded_at_start = "av" in sys.modules
        self.av_loaded: float | None = None  # monotonic, once the decoder's modules loaded


def play_head(
    heads: HeadLookup,
    url: str,
    open_output: Callable[[], tuple[PcmRing, Sink]],
    rendition: str | None = None,
) -> HeadStart | None:
    """Write ``url``'s head into the (fresh) ring and start the sink; None when there is no
    usable head (nothing written, nothing started; the output is opened only for a head).
    ``rendition``: the ``--audio`` choice (an HLS head made with another is another audio)."""
    head = heads.replay_head(url)
    if head is None or head.version.rendition != rendition:
        return None
    from kithara_cli.cache.head import HeadFormat

    ring, sink = open_output()
    if head.format != HeadFormat(sink.rate, ring.channels):
        return None  # made for another output
    frames = ring.write(head.pcm, timeout=0)  # a ring smaller than the head: what fits
    start = HeadStart(frames, frames / sink.rate, head.version.variant)
    sink.start()
    return start


def head_version(src: ProgressiveSource | None) -> HeadVersion | None:
    """The version a head of ``src`` would be made from: a file of known length (one the
    cache keeps), not a live stream; None otherwise."""
    info = src.info if src is not None else None
    if src is None or src.live is not None or info is None or info.total_size is None:
        return None
    from kithara_cli.cache.head import HeadPart, HeadVersion

    part = HeadPart(src.url, info.etag, info.last_modified, info.total_size)
    return HeadVersion((part,))


class HeadKeeper:
    """Hands the decoder's kept head to the cache once whole (the watcher polls it)."""

    def __init__(self, frames: int, save: Callable[[bytes], None]) -> None:
        self.frames = frames  # the decoder keeps this many
        self._save = save
        self.done = False

    def poll(self, decoder: Decoder) -> None:
        if self.done:
            return
        pcm = decoder.head
        if pcm is not None:
            self.done = True
            self._save(pcm)


def keeper_for(
    heads: HeadCache | None,
    url: str,
    src: ProgressiveSource | None,
    hls: HlsSource | None,
    ring: PcmRing,
    sink: Sink,
    rendition: str | None = None,
) -> HeadKeeper | None:
    """Who saves this play's head: a progressive file the cache keeps, or a VOD HLS
    presentation played with ``--audio rendition`` (the caller has checked ``head_allowed``
    and that no head plays)."""
    if heads is None:
        return None
    from kithara_cli.cache.head import HeadFormat

    fmt = HeadFormat(sink.rate, ring.channels)
    if hls is not None:
        if hls.live or not hls.reference.segments:
            return None
        seconds = min(HEAD_SECONDS, hls.reference.segments[0].duration)

        def save_hls(pcm: bytes, hls: HlsSource = hls) -> None:
            found = hls.first_segment_parts()
            if found is not None:
                heads.save_head_of(url, found[1], fmt, pcm, variant=(found[0], rendition))

        return HeadKeeper(round(seconds * fmt.rate), save_hls)
    version = head_version(src)
    if version is None:
        return None
    return HeadKeeper(
        round(HEAD_SECONDS * fmt.rate), lambda pcm: heads.save_head(url, version, fmt, pcm)
    )


def head_notice(head: HeadStart, first_out: float) -> Notice:
    """Says that the first audio came from the cached head, and how long before PyAV had
    loaded (``first_out``: monotonic time of the first sample out)."""
    loaded = head.av_loaded
    ahead = 0.0 if loaded is None or head.av_loaded_at_start else loaded - first_out
    when = f"{ahead * 1000:.0f} ms before PyAV loaded" if ahead > 0 else "after PyAV loaded"
    message = f"cache: the first {head.seconds:.2f} s played from the cached head, {when}"
    return Notice(level="info", message=message)
