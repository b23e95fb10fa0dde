"""Loading playlists (remote through the downloader, or a local file the user named), and
the one place that turns a master playlist into what fetch or play uses: ``select`` (one
variant and its audio, for fetch), ``playback_ladder`` (the audio rungs the ABR picks from,
for play) and ``fixed_variant`` (play's ``--abr fixed:SPEC``, chosen as fetch's ``--variant
SPEC`` is, by ``select.choose_variant``)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from kithara_cli.dl import Downloader, Priority
from kithara_cli.errors import (
    HttpStatusError,
    KitharaError,
    NetworkError,
    PlaylistError,
    ServerBusyError,
)
from kithara_cli.events.types import Notice
from kithara_cli.hls import MAX_PLAYLIST_BYTES
from kithara_cli.hls.audio_rates import AudioRate, audio_rates
from kithara_cli.hls.model import (
    VIDEO_CODECS,
    MasterPlaylist,
    MediaPlaylist,
    Rendition,
    Variant,
)
from kithara_cli.hls.playlist import parse_playlist
from kithara_cli.hls.select import (
    audio_candidates,
    audio_ladder,
    choose_rendition,
    choose_variant,
    track_renditions,
)

MAX_WARNINGS = 5  # per playlist: a broken one could otherwise fill the screen
_warned: set[str] = set()


def load_playlist(
    downloader: Downloader,
    url: str,
    *,
    label: str = "playlist",
    read: tuple[bytes, str] | None = None,
    max_attempts: int | None = None,
) -> MasterPlaylist | MediaPlaylist:
    """Fetch and parse; URIs resolve against the final URL after redirects. What parsing
    tolerated (a stray URI line, a bad BANDWIDTH) is published as warnings, once per URL.
    ``read``: the body and final URL of ``url`` when the caller has fetched it already (to
    tell HLS from a station link): parsed as is, not asked for again."""
    parts = urlsplit(url)
    if read is not None:
        playlist = parse_playlist(read[0], read[1])
    elif parts.scheme in ("", "file"):
        path = Path(parts.path if parts.scheme == "file" else url)
        try:
            text = path.read_bytes()
        except OSError as exc:
            raise PlaylistError(f"cannot read {path}: {exc.strerror}") from exc
        playlist = parse_playlist(text, path.resolve().as_uri(), allow_local=True)
    else:
        body, final_url = downloader.fetch_bytes(
            url, label=label, priority=Priority.DEMAND, max_bytes=MAX_PLAYLIST_BYTES,
            cache="always",  # a cached playlist is asked about (If-None-Match) on every load
            max_attempts=max_attempts,
        )  # fmt: skip
        playlist = parse_playlist(body, final_url)
    if playlist.warnings and url not in _warned:
        if len(_warned) > 1000:
            _warned.clear()
        _warned.add(url)  # a live playlist reloads: say it once
        for warning in playlist.warnings[:MAX_WARNINGS]:
            downloader.bus.publish(Notice(level="warning", message=f"playlist {warning}"))
    return playlist


def load_media(
    downloader: Downloader, url: str, *, label: str = "playlist", max_attempts: int | None = None
) -> MediaPlaylist:
    playlist = load_playlist(downloader, url, label=label, max_attempts=max_attempts)
    if not isinstance(playlist, MediaPlaylist):
        raise PlaylistError(f"expected a media playlist at {url}, got a master playlist")
    return playlist


# A media playlist that did not load, once retried: its host down (refused, or a CDN's
# 502/503/504 before a dead origin), gone (404), or not a playlist. Its backup or another
# variant serves (``select``, ``picking._stand_in``), as hls.js and FFmpeg move on.
LOAD_FAILURES = (NetworkError, ServerBusyError, HttpStatusError, PlaylistError)


@dataclass(frozen=True)
class Selection:
    """What to fetch: the variant chosen, and the audio rendition if the audio lives apart."""

    master: MasterPlaylist | None
    variant: Variant | None
    rendition: Rendition | None
    media_url: str
    audio_rate: AudioRate | None = None  # the rendition's (``audio_rates``), when known
    note: str = ""  # why this one and not the variant asked for (its playlist failed)

    def describe(self) -> str:
        if self.variant is None:
            return "media playlist"
        text = f"variant {self.variant.index} ({self.variant.bandwidth // 1000}k)"
        if self.rendition is not None:
            lang = f" [{self.rendition.language}]" if self.rendition.language else ""
            text += f", audio rendition {self.rendition.name!r}{lang}"
            if self.audio_rate is not None:
                text += f" ({self.audio_rate.bandwidth // 1000}k)"
        return text


def media_url_for(master: MasterPlaylist, variant: Variant, audio: str | None) -> Selection:
    rendition = choose_rendition(master, variant, audio)
    url = rendition.uri if rendition is not None and rendition.uri else variant.uri
    rate = audio_rates(master).get(rendition.group_id) if rendition is not None else None
    return Selection(master, variant, rendition, url, rate)


def pick(master: MasterPlaylist, variant_spec: str, audio: str | None) -> Selection:
    """``--variant SPEC`` with ``--audio``: ``best``, ``worst`` or a bitrate choose among the
    variants that have the audio track (``select.track_renditions``: a group's own DEFAULT
    may be another language), by what their audio costs (``audio_rates``: a rendition's
    rate, not the video variant's); an index is taken as named, with the track if its group
    has it."""
    pairs = track_renditions(master, audio_candidates(master), audio)
    rates = audio_rates(master)
    audio_of = {v.index: rates.get(r.group_id) for v, r in pairs if r is not None}

    def rate(v: Variant) -> int:
        known = audio_of.get(v.index)
        return known.bandwidth if known is not None else v.average_bandwidth or v.bandwidth

    if variant_spec.strip().isdigit() or not pairs:
        variant = choose_variant(master, variant_spec)
    else:
        kept = replace(master, variants=tuple(v for v, _ in pairs))
        variant = choose_variant(kept, variant_spec, rate if audio_of else None)
    for v, rendition in pairs:
        if v.index == variant.index:
            url = rendition.uri if rendition is not None and rendition.uri else v.uri
            return Selection(master, v, rendition, url, audio_of.get(v.index))
    return media_url_for(master, variant, audio)


def select(
    downloader: Downloader,
    url: str,
    variant_spec: str,
    audio: str | None,
    *,
    read: tuple[bytes, str] | None = None,
) -> tuple[Selection, MediaPlaylist]:
    playlist = load_playlist(downloader, url, read=read)
    if isinstance(playlist, MediaPlaylist):
        return Selection(None, None, None, url), playlist  # asked at, as a variant's URI
    if not playlist.variants:
        raise PlaylistError("master playlist has no variants")
    failures: dict[str, KitharaError] = {}  # media URL -> why it failed
    asked: Variant | None = None
    left = playlist
    while True:
        chosen = pick(left, variant_spec, audio)
        assert chosen.variant is not None
        asked = asked or chosen.variant
        for selection in [chosen, *backup_streams(playlist, chosen, audio)]:
            if selection.media_url in failures:
                continue
            try:
                media = load_media(downloader, selection.media_url)
            except LOAD_FAILURES as exc:
                failures[selection.media_url] = exc
                continue
            return _noted(selection, asked, failures), media
        # "best" and "worst" mean of those that load (FFmpeg skips a variant whose playlist
        # fails); an index or a bitrate names one variant (and its backups) only.
        failed = {chosen.variant.index} | {
            v.index
            for v in left.variants
            if media_url_for(playlist, v, audio).media_url in failures
        }
        rest = tuple(v for v in left.variants if v.index not in failed)
        if variant_spec.strip().lower() not in ("best", "worst") or not rest:
            raise next(iter(failures.values()))
        left = replace(left, variants=rest)


def _noted(selection: Selection, asked: Variant, failures: dict[str, KitharaError]) -> Selection:
    """``selection`` with a note saying why it is not ``asked`` (whose playlist failed)."""
    got = selection.variant
    if not failures or got is None:
        return selection
    error = next(iter(failures.values()))  # the first tried: the variant asked for
    backup = (asked.bandwidth, asked.codecs) == (got.bandwidth, got.codecs)
    instead = "its backup stream, " if backup else ""
    note = f"variant {asked.index} failed ({error}): fetching {instead}variant {got.index}"
    return replace(selection, note=note)


def backup_streams(
    master: MasterPlaylist, selection: Selection, audio: str | None
) -> list[Selection]:
    """The redundant copies of the variant chosen (RFC 8216 6.2.3: the same BANDWIDTH and
    CODECS, another URI, typically another host), in the master's order: what hls.js and
    FFmpeg fall back to when a primary stream's playlist cannot be loaded."""
    chosen = selection.variant
    if chosen is None:
        return []
    out: list[Selection] = []
    seen = {selection.media_url}
    for v in master.variants:
        if v.index == chosen.index or (v.bandwidth, v.codecs) != (chosen.bandwidth, chosen.codecs):
            continue
        backup = media_url_for(master, v, audio)
        if backup.media_url not in seen:
            seen.add(backup.media_url)
            out.append(backup)
    return out


@dataclass
class Rung:
    """One variant as playback sees it: its bitrate and where its media playlist lives."""

    index: int
    bandwidth: int
    codecs: str
    media_url: str
    media: MediaPlaylist | None = None
    # An audio rendition's group the master gives no rate for: ``bandwidth`` is its video
    # variant's until playback measures the group's segments (``hls.rerate``).
    unpriced_group: str | None = None


def playback_ladder(playlist: MasterPlaylist | MediaPlaylist, audio: str | None) -> list[Rung]:
    """The rungs playback's ABR picks from, lowest bitrate first: the audio ladder
    (``select.audio_ladder``: no video-only variants), one rung per audio media playlist."""
    if isinstance(playlist, MediaPlaylist):
        return [Rung(0, 0, "", playlist.url, playlist)]
    rates = audio_rates(playlist)  # a rendition's rung costs its audio, not the video's rate
    rungs = []
    for v, rendition in track_renditions(playlist, audio_ladder(playlist), audio):
        url = rendition.uri if rendition is not None and rendition.uri else v.uri
        rate = rates.get(rendition.group_id) if rendition is not None else None
        bandwidth = rate.bandwidth if rate is not None else v.bandwidth
        codecs = v.codecs
        if rendition is not None:  # the rendition's audio, not the video it goes with
            codecs = tuple(c for c in v.codecs if not _is_video(c)) or v.codecs
        # (a rendition without URI is muxed in the variant: its segments carry the video too)
        unpriced = rendition.group_id if rendition and rendition.uri and not rate else None
        rungs.append(Rung(v.index, bandwidth, ",".join(codecs), url, unpriced_group=unpriced))
    # Variants that share one audio rendition are one rung for audio purposes.
    seen: dict[str, Rung] = {}
    for rung in rungs:
        seen.setdefault(rung.media_url, rung)
    return sorted(seen.values(), key=lambda r: r.bandwidth)


def _is_video(codec: str) -> bool:
    return codec.split(".", 1)[0].strip().lower() in VIDEO_CODECS


def fixed_variant(
    playlist: MasterPlaylist | MediaPlaylist, rungs: list[Rung], spec: str, audio: str | None
) -> str:
    """``fixed:SPEC`` -> ``fixed:N``, N the rung that plays the variant ``fetch --variant
    SPEC`` would fetch (``best``, ``worst``, a bitrate like ``128k``); an index passes as is."""
    text = spec.strip().lower()
    if text.isdigit():
        return f"fixed:{text}"
    if isinstance(playlist, MediaPlaylist):
        return f"fixed:{rungs[0].index}"
    chosen = pick(playlist, text, audio)
    variant, url = chosen.variant, chosen.media_url
    assert variant is not None
    for rung in rungs:
        if rung.media_url == url:
            return f"fixed:{rung.index}"
    # A variant with sound that is not on the audio ladder: the nearest rung not above it.
    fitting = [r for r in rungs if r.bandwidth <= variant.bandwidth] or rungs[:1]
    return f"fixed:{fitting[-1].index}"
