"""Opening a URL as a source for the decoder: progressive, or an HLS ladder with its ABR.

Runs on the session's network thread. ``audio_may_load`` is set as soon as the requests that
gate the chain are on their way, so that PyAV and PortAudio load while they are in flight.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from kithara_cli import interrupt
from kithara_cli.errors import KitharaError, PlaylistError, UnsupportedError, UsageError
from kithara_cli.events import EventBus
from kithara_cli.events.types import LadderInfo, Notice
from kithara_cli.play.settings import PlayerSettings
from kithara_cli.radio.links import (
    MAX_FEED_BYTES,
    StationLinkFound,
    is_link_type,
    link_kind,
    parse_link,
)

if TYPE_CHECKING:
    from kithara_cli.audio import Decoder
    from kithara_cli.dl import Downloader
    from kithara_cli.file.source import ProgressiveSource
    from kithara_cli.hls.source import HlsSource
    from kithara_cli.play.record import PlayRecording
    from kithara_cli.stream import ByteStream, Source


class Feed(Protocol):
    """The network side of a playback, whichever kind: told when audio starts (prefetch in
    full from then on), closed at the end. Both ``ProgressiveSource`` and ``HlsSource``."""

    def playback_started(self) -> None: ...
    def close(self) -> None: ...


FIRST_RESPONSE_SLICE = 0.05
LIVE_SNIFF_SECONDS = 1.0
ERROR_PAGE_BYTES = 64 << 10  # an audio-typed body this small is looked at first


@dataclass
class Opened:
    """What the decoder reads (a local path or a stream) and who feeds it."""

    stream: ByteStream | str
    origin: float = 0.0  # the timeline position of the stream's first byte (HLS)
    progressive: ProgressiveSource | None = None
    hls: HlsSource | None = None
    hint: str | None = None  # a live stream's Content-Type: its demuxer, with no probing

    @property
    def live(self) -> bool:
        """A live stream (radio, or HLS with no end yet): it has no position to --start at."""
        if self.hls is not None:
            return self.hls.live
        return self.progressive is not None and self.progressive.live is not None

    @property
    def feed(self) -> Feed | None:
        return self.hls if self.hls is not None else self.progressive


def new_run_dir() -> Path:
    """A folder of its own for one play's run files (tempfile loads after a replay's head)."""
    import tempfile

    return Path(tempfile.mkdtemp(prefix="kithara-play-"))


def _import_hls_modules() -> None:
    import kithara_cli.abr.controller
    import kithara_cli.hls.loader
    import kithara_cli.hls.source  # noqa: F401


def open_progressive(
    dl: Downloader,
    url: str,
    cache_dir: Path,
    audio_may_load: threading.Event,
    first_attempts: int | None = None,
    recording: PlayRecording | None = None,
    *,
    skip_tags: bool = True,
) -> Opened:
    from kithara_cli.file.source import ProgressiveSource
    from kithara_cli.net import check_http_url
    from kithara_cli.stream import ByteStream
    from kithara_cli.stream.cover_blank import BlankedSource
    from kithara_cli.stream.offset import OffsetSource

    check_http_url(url)
    src = ProgressiveSource(dl, url, cache_dir / "progressive.bin", first_attempts=first_attempts)
    src.start(0)
    audio_may_load.set()
    # The first response says whether this is an endless stream, read front to back (the
    # decoder then opens it as a stream); PyAV loads meanwhile on the other thread.
    while not src.first_response.wait(FIRST_RESPONSE_SLICE):
        interrupt.check()
    info = src.info
    if src.live is None and info is not None:
        from kithara_cli.play.served import page_error, worth_sniffing

        kind = "list" if is_link_type(info.content_type) else _sniff(src, info.content_type)
        if kind is not None:
            src.close()
        if kind == "empty":
            raise UnsupportedError(f"the server sent an empty body, no audio: {url}")
        if kind == "page":
            said = info.content_type if worth_sniffing(info.content_type) else None  # not audio/*
            raise page_error(url, said)
        if kind == "list":  # a station link or HLS under a plain name: read it as one
            body, final_url = dl.fetch_bytes(url, label="playlist", max_bytes=MAX_FEED_BYTES)
            sniffed = not is_link_type(info.content_type)  # then lines of URLs are an .m3u
            raise_if_link(body, "audio/x-mpegurl" if sniffed else info.content_type, final_url)
            if b"#EXT-X-" in body:
                raise _HlsServed(final_url)  # HLS under a plain name, as audio/x-mpegurl
            raise PlaylistError(f"neither a station link nor an HLS playlist: {url}")
    # A live stream joined mid-frame has no header to probe: FFmpeg would read a few seconds
    # of it before trusting MP3, so its first frames name the demuxer (else its Content-Type).
    hint = _live_hint(src) if src.live is not None else None
    # A live stream records itself (its audio without ICY blocks); a file through a tap.
    read: Source = recording.tap(src) if recording is not None and src.live is None else src
    if hint == "audio/ogg" and src.live is not None:  # a track at another rate: a new part
        from kithara_cli.radio.ogg_parts import OggLinkParts

        read = OggLinkParts(src, joins=src.live.connection_starts)
    if src.live is None and recording is None and not src.unsized:
        from kithara_cli.play.past_tags import audio_start_of, cover_art

        src.audio_start = audio_start_of(src) if skip_tags else 0
        if src.audio_start:  # the decoder starts at the audio; the tags download after it
            read = OffsetSource(src, src.audio_start)
        elif spans := cover_art(src):  # an M4A's pictures: zeros, downloaded after the audio
            read = BlankedSource(src, spans)
    return Opened(ByteStream(read, name=url), 0.0, progressive=src, hint=hint)


def _sniff(src: ProgressiveSource, content_type: str | None) -> str | None:
    """What a body whose type names no audio holds, by the bytes its first response brought
    (``served``): "page", "list", "empty", or None (audio, or a failure the decoder will
    name)."""
    from kithara_cli.play.served import SNIFF_BYTES, served_kind, worth_sniffing
    from kithara_cli.storage import ResourceClosed, ResourceFailed

    size = src.info.total_size if src.info is not None else None
    if size == 0:
        return "empty"
    # An audio type is taken at its word (no wait before the decoder starts), but not on a
    # body the size of an error page: a script that sent audio/mpeg before failing.
    audio_type = not worth_sniffing(content_type)
    if audio_type and (size is None or size > ERROR_PAGE_BYTES):
        return None
    while True:
        try:
            got = src.wait_readable(0, SNIFF_BYTES, FIRST_RESPONSE_SLICE)
        except (ResourceFailed, ResourceClosed):
            return None
        if got >= 0:
            kind = served_kind(src.read_at(0, got), content_type) if got else "empty"
            return None if audio_type and kind != "page" else kind
        interrupt.check()


def _live_hint(src: ProgressiveSource, clock: Callable[[], float] = time.monotonic) -> str | None:
    """The demuxer for a live stream, by its first frames as they arrive (``live_hint``),
    waiting no longer than ``LIVE_SNIFF_SECONDS`` for them."""
    from kithara_cli.play.served import LIVE_SNIFF_BYTES, live_hint
    from kithara_cli.storage import ResourceClosed

    content_type = src.info.content_type if src.info is not None else None
    deadline = clock() + LIVE_SNIFF_SECONDS
    first = b""
    while True:
        try:  # for the byte after those seen: each turn waits for more
            got = src.wait_readable(len(first), LIVE_SNIFF_BYTES, FIRST_RESPONSE_SLICE)
        except (ResourceClosed, KitharaError):
            return content_type  # the decoder meets the same end and names it
        first += src.read_at(len(first), got) if got > 0 else b""
        hint, settled = live_hint(first, content_type)
        if settled or got == 0 or len(first) >= LIVE_SNIFF_BYTES or clock() > deadline:
            return hint
        interrupt.check()


def progressive_duration(
    src: ProgressiveSource, decoder: Decoder, shown: float | None
) -> float | None:
    """The duration to show for a progressive file: the decoder's when it knows one or the
    file has a length (an Ogg's comes with its tail, after TrackInfo, and again when its links
    turn out to reuse a serial); an unsized file's once its body has ended."""
    if decoder.duration is not None or not src.unsized:
        return decoder.duration
    return shown if shown is not None else unsized_duration(src, decoder)


def unsized_duration(src: ProgressiveSource, decoder: Decoder) -> float | None:
    """A file served with no length, once its body has ended: where its last byte lies at the
    byte rate of the packets demuxed so far (exact for CBR, an estimate for VBR), or the end
    itself once decoded to it. None until known. Not the reader's position over the seconds
    decoded: FFmpeg reads tens of KB ahead of what it demuxes (0.45 s off under load)."""
    total = src.length()
    if not src.unsized or src.live is not None or total is None:
        return None
    if decoder.eof.is_set() and decoder.seeks_done == 0:
        return decoder.position_decoded
    return decoder.duration_from_bytes(total)


def progressive_ahead(
    src: ProgressiveSource | None, duration: float | None, pos: float, decoded: float
) -> float:
    """Seconds downloaded ahead of ``pos`` (a local file, or one of no known duration: what
    is ``decoded`` ahead, all of it being there)."""
    if src is None or not duration:
        return decoded
    total = src.length()
    if not total:
        return 0.0
    start = src.audio_start  # (an ID3 tag's bytes hold no seconds)
    audio = max(total - start, 1)
    ahead = src.available_ahead(start + int(pos / duration * audio))
    return max(0.0, ahead / audio * duration)


class _HlsServed(Exception):
    """A progressive open found an HLS playlist: ``open_url`` opens it as HLS instead."""


@dataclass(frozen=True)
class OpenContext:
    """What opening any URL of one play needs, besides the URL and where to start."""

    dl: Downloader
    bus: EventBus
    settings: PlayerSettings
    cache_dir: Path
    audio_may_load: threading.Event
    recording: PlayRecording | None = None
    start_variant: str | None = None  # HLS: a replay's head came from this media playlist
    read_tags: bool = False  # progressive: the decoder reads from byte 0, its tags (chapters)


def open_url(ctx: OpenContext, url: str, start_at: float, *, hls: bool) -> Opened:
    """HLS when the URL is named so, or when its answer turns out to be a playlist; else a
    progressive file or stream (a station link raises ``StationLinkFound``)."""
    if not hls:
        try:
            return open_progressive(
                ctx.dl,
                url,
                ctx.cache_dir,
                ctx.audio_may_load,
                ctx.settings.first_attempts,
                ctx.recording,
                skip_tags=not ctx.read_tags,
            )
        except _HlsServed:
            pass
    return open_hls(ctx, url, start_at)


def open_hls(ctx: OpenContext, url: str, start_at: float) -> Opened:
    from kithara_cli.dl import Priority
    from kithara_cli.hls import MAX_PLAYLIST_BYTES
    from kithara_cli.net import check_http_url

    dl, settings, recording = ctx.dl, ctx.settings, ctx.recording
    check_http_url(url)
    # The HLS modules (m3u8 among them) load while the master playlist is in flight.
    loader = threading.Thread(target=_import_hls_modules, name="kithara-import", daemon=True)
    loader.start()
    body, final_url = dl.fetch_bytes(
        url, label="playlist", priority=Priority.DEMAND, max_bytes=MAX_PLAYLIST_BYTES
    )
    loader.join()
    from kithara_cli.play.served import refuse_page

    refuse_page(body, final_url)  # a captive portal's login page, under the playlist's name
    raise_if_link(body, None, final_url)  # an .m3u that is a list of stations, not HLS
    from kithara_cli.abr.controller import AbrController, VariantInfo
    from kithara_cli.hls.loader import fixed_variant, playback_ladder
    from kithara_cli.hls.model import MasterPlaylist, MediaPlaylist
    from kithara_cli.hls.playlist import parse_playlist
    from kithara_cli.hls.rerate import MeasuredRates
    from kithara_cli.hls.source import HlsSource
    from kithara_cli.stream import ByteStream

    playlist = parse_playlist(body, final_url)
    rungs = playback_ladder(playlist, settings.audio)
    infos = [VariantInfo(r.index, max(r.bandwidth, 1), r.codecs) for r in rungs]
    ctx.bus.publish(LadderInfo(variants=tuple((r.index, r.bandwidth, r.codecs) for r in rungs)))
    mode = settings.abr
    if mode.startswith("fixed:"):
        mode = fixed_variant(playlist, rungs, mode.split(":", 1)[1], settings.audio)
    controller = AbrController(
        infos,
        mode=mode,
        max_bitrate=settings.max_bitrate,
        min_bitrate=settings.min_bitrate,
    )
    hls = HlsSource(dl, rungs, controller, ctx.cache_dir, prefetch=settings.prefetch_segments)
    hls.start_variant = ctx.start_variant
    hls.skip_missing = settings.skip_unavailable
    if isinstance(playlist, MasterPlaylist):
        hls.rates = MeasuredRates.for_ladder(playlist, rungs)
    if isinstance(playlist, MediaPlaylist):  # reloaded at the URL given, not redirected to
        hls.playlist_url = url
    # The media playlist goes next, then the first segment: PyAV loads during those.
    ctx.audio_may_load.set()
    origin = hls.open_run(start_at)
    if recording is not None:
        recording.origin = origin
        recording.remux = True  # FILE's extension may name another container than theirs
    read = recording.tap(hls, origin) if recording is not None else hls
    return Opened(ByteStream(read, name=url), origin, hls=hls)


def join_opening(setup: threading.Thread, ended: threading.Event) -> None:
    """Wait for the network side to open the target, raising on Ctrl-C/SIGTERM; or stop
    waiting once playback has ended from outside (``Player.fail``: n/p/q pressed while a
    dead station's retries run, as mpv's keys act while it loads). The thread closes what
    it opens after that (the player is closed by then)."""
    while setup.is_alive() and not ended.is_set():
        interrupt.join(setup, FIRST_RESPONSE_SLICE)


def live_start(bus: EventBus, asked: bool) -> float:
    """Where a live stream starts: at its edge. ``--start`` on one (``asked``) had the decoder
    drop that much of it in real time (silence, then every title of it at once); a Notice
    says why."""
    if asked:
        bus.publish(Notice(level="warning", message="--start: a live stream plays from now"))
    return 0.0


def start_past_end(start_at: float, duration: float | None) -> UsageError:
    """``--start`` at or past the end of the media: nothing played. mpv 0.35 counts such a
    file as one it could not load ("Errors when loading file", exit 2; 3 when others played)
    and goes on to the next; so here: an error of usage (exit 2), and a queue goes on to the
    next item, as for any item that fails."""
    end = f", which lasts {_clock(duration)}" if duration is not None else ""
    end += " s" if duration is not None and duration < 59.95 else ""  # "4 s"; "1:15" says it
    return UsageError(f"--start {_clock(start_at)} is past the end of the media{end}")


def _clock(seconds: float) -> str:
    """``75.5`` -> ``1:15.5``: the way ``--start`` is typed."""
    minutes, secs = divmod(round(seconds, 1), 60)
    if not minutes:
        return f"{secs:.1f}".removesuffix(".0")
    return f"{int(minutes)}:{secs:04.1f}".removesuffix(".0")


def open_link_url(dl: Downloader, url: str) -> None:
    """A URL named like a .pls or .xspf: fetch it and raise its entries."""
    from kithara_cli.net import check_http_url

    check_http_url(url)
    body, final_url = dl.fetch_bytes(url, label="station link", max_bytes=MAX_FEED_BYTES)
    from kithara_cli.play.served import refuse_page

    refuse_page(body, final_url)
    raise_if_link(body, None, final_url)
    raise PlaylistError(f"not a station link (.pls/.m3u/.xspf): {url}")


def raise_if_link(body: bytes, content_type: str | None, url: str) -> None:
    kind = link_kind(body, content_type, url)
    if kind is not None:
        raise StationLinkFound(url, parse_link(body, kind, url, remote=True), kind)
