"""What the two fetch paths share (``fetch`` for a file, a station link or a live stream;
``fetch_hls`` for HLS): the command's options and its progress view. Its own module so that
``fetch`` and ``fetch_hls`` need not import each other."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

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
