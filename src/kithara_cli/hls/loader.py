"""Loading playlists (remote through the downloader, or a local file the user named)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from kithara_cli.dl import Downloader, Priority
from kithara_cli.errors import PlaylistError
from kithara_cli.events.types import Notice
from kithara_cli.hls import MAX_PLAYLIST_BYTES
from kithara_cli.hls.model import MasterPlaylist, MediaPlaylist, Rendition, Variant
from kithara_cli.hls.playlist import parse_playlist
from kithara_cli.hls.select import choose_rendition, choose_variant

MAX_WARNINGS = 5  # per playlist: a broken one could otherwise fill the screen
_warned: set[str] = set()


def load_playlist(
    downloader: Downloader, url: str, *, label: str = "playlist"
) -> MasterPlaylist | MediaPlaylist:
    """Fetch and parse; URIs resolve against the final URL after redirects. What parsing
    tolerated (a stray URI line, a bad BANDWIDTH) is published as warnings, once per URL."""
    parts = urlsplit(url)
    if parts.scheme in ("", "file"):
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
        )  # fmt: skip
        playlist = parse_playlist(body, final_url)
    if playlist.warnings and url not in _warned:
        if len(_warned) > 1000:
            _warned.clear()
        _warned.add(url)  # a live playlist reloads: say it once
        for warning in playlist.warnings[:MAX_WARNINGS]:
            downloader.bus.publish(Notice(level="warning", message=f"playlist {warning}"))
    return playlist


def load_media(downloader: Downloader, url: str, *, label: str = "playlist") -> MediaPlaylist:
    playlist = load_playlist(downloader, url, label=label)
    if not isinstance(playlist, MediaPlaylist):
        raise PlaylistError(f"expected a media playlist at {url}, got a master playlist")
    return playlist


@dataclass(frozen=True)
class Selection:
    """What to fetch: the variant chosen, and the audio rendition if the audio lives apart."""

    master: MasterPlaylist | None
    variant: Variant | None
    rendition: Rendition | None
    media_url: str

    def describe(self) -> str:
        if self.variant is None:
            return "media playlist"
        text = f"variant {self.variant.index} ({self.variant.bandwidth // 1000}k)"
        if self.rendition is not None:
            lang = f" [{self.rendition.language}]" if self.rendition.language else ""
            text += f", audio rendition {self.rendition.name!r}{lang}"
        return text


def media_url_for(master: MasterPlaylist, variant: Variant, audio: str | None) -> Selection:
    rendition = choose_rendition(master, variant, audio)
    url = rendition.uri if rendition is not None and rendition.uri else variant.uri
    return Selection(master, variant, rendition, url)


def select(
    downloader: Downloader, url: str, variant_spec: str, audio: str | None
) -> tuple[Selection, MediaPlaylist]:
    playlist = load_playlist(downloader, url)
    if isinstance(playlist, MediaPlaylist):
        return Selection(None, None, None, playlist.url), playlist
    if not playlist.variants:
        raise PlaylistError("master playlist has no variants")
    variant = choose_variant(playlist, variant_spec)
    selection = media_url_for(playlist, variant, audio)
    media = load_media(downloader, selection.media_url)
    return selection, media
