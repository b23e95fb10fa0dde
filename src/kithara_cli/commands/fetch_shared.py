"""What the two fetch paths share (``fetch`` for a file, a station link or a live stream;
``fetch_hls`` for HLS): the command's options and its progress view. Its own module so that
``fetch`` and ``fetch_hls`` need not import each other."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from kithara_cli.errors import UsageError
from kithara_cli.events import EventBus


@dataclass
class FetchOptions:
    url: str
    out: Path | None
    connections: int = 4
    force: bool = False
    quiet: bool = False
    variant: str = "best"
    audio: str | None = None
    list_only: bool = False
    as_json: bool = False
    remux: bool = False
    segments_in_flight: int = 32
    skip_unavailable: bool = False
    live_edge: int = 3
    duration: float | None = None
    dashboard: bool = False
    max_size: str | None = None
    split_tracks: bool = False
    episode: str | None = None  # a podcast feed's episode to save (``feeds.pick_episode``)
    from_link: bool = False  # an entry of a station link: a web page there is a dead mirror


# A name the URL ends in that fetch would save as it is (no remux): worth suggesting for --out.
_AUDIO_SUFFIXES = (".mp3", ".aac", ".m4a", ".flac", ".wav", ".ogg", ".opus", ".oga", ".mp4")


def suggested_name(url: str) -> str | None:
    """``song.mp3`` for ``https://host/music/song.mp3?x=1``: the URL's own file name when it
    names an audio file and is safe to show on a command line as it is, else None."""
    import re
    from urllib.parse import unquote, urlsplit

    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    if re.fullmatch(r"[\w.+-]{1,80}", name) and name.lower().endswith(_AUDIO_SUFFIXES):
        return name
    return None


def out_missing(url: str) -> UsageError:
    """No --out: what to type. curl -O and wget name the file after the URL, yt-dlp after the
    title; fetch writes only where it is told (an HLS ladder, a feed or a station has no one
    obvious name, and a name guessed could overwrite a file), so the line suggests one."""
    name = suggested_name(url)
    if name is not None:
        return UsageError(f"--out FILE is required: the file to save to (e.g. -o {name})")
    return UsageError(
        "--out FILE is required: the file to save to, its extension the container "
        "(e.g. -o show.m4a)"
    )


def out_is_folder(url: str, out: Path) -> UsageError:
    """--out names a folder (as ``cp URL DIR`` would take it): a file in it is meant."""
    name = suggested_name(url) or "show.m4a"
    return UsageError(f"--out {out} is a folder: name a file in it (e.g. -o {out / name})")


def progress_view(
    bus: EventBus, label: str, options: FetchOptions, verbose: bool
) -> contextlib.AbstractContextManager[object]:
    """The progress bar, or with --dashboard the bar plus the requests in flight; with
    --quiet nothing at all (rich.progress costs ~40 ms to import)."""
    if options.quiet:
        return contextlib.nullcontext()
    if options.dashboard:
        from kithara_cli.ui.console import stderr_console
        from kithara_cli.ui.fetch_dashboard import FetchDashboard

        return FetchDashboard(bus, stderr_console(), label, quiet=False, verbose=verbose)
    from kithara_cli.ui.progress import FetchProgressView

    return FetchProgressView(bus, label, quiet=False, verbose=verbose)
