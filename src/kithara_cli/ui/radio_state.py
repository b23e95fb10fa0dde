"""The dashboard's radio events: station, now playing, gaps and reconnects, queue position.

Kept out of ``dashboard_state`` (already large): these handlers fold the radio events into
the same state and log, so the dashboard header, its events list and ``--no-ui``'s plain log
all show them. Every network string is sanitised here, on arrival.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kithara_cli.events.types import (
    LoadRecovered,
    QueueAdvanced,
    RequestRelabeled,
    StationDetails,
    StreamGap,
    StreamReconnecting,
    TitleChanged,
)
from kithara_cli.ui.sanitize import sanitize
from kithara_cli.ui.views import label_for

if TYPE_CHECKING:
    from kithara_cli.ui.dashboard_state import DashboardState


def _on_station(state: DashboardState, ev: StationDetails) -> None:
    state.station = sanitize(ev.name, 80)
    parts = [sanitize(x, 40) for x in (ev.genre,) if x]
    if ev.bitrate_kbps:
        parts.append(f"{ev.bitrate_kbps} kbit/s")
    extra = f" ({', '.join(parts)})" if parts else ""
    state._log(ev.ts, "STATION", f"{state.station or 'unnamed station'}{extra}")


def _on_title(state: DashboardState, ev: TitleChanged) -> None:
    if ev.chapter:  # a podcast's chapter: shown beside the episode's title
        state.chapter = sanitize(ev.title, 160)
        state.chapters = True
        state._log(ev.ts, "CHAPTER", state.chapter or "(no chapter)")
        return
    state.now_playing = sanitize(ev.title, 160)
    state._log(ev.ts, "TITLE", state.now_playing or "(no title)")


def _on_gap(state: DashboardState, ev: StreamGap) -> None:
    state._log(
        ev.ts,
        "GAP",
        f"live stream back after {ev.seconds:.1f} s ({sanitize(ev.reason, 80)})",
        "warning",
    )


def _on_reconnecting(state: DashboardState, ev: StreamReconnecting) -> None:
    state._log(
        ev.ts,
        "RECONNECT",
        f"attempt {ev.attempt}/{ev.max_attempts} in {ev.backoff:.1f} s after "
        f"{sanitize(ev.reason, 120)}",
        "warning",
    )


def _on_recovered(state: DashboardState, ev: LoadRecovered) -> None:
    row = state._row(ev.request_id, ev.ts)
    row.slow = False
    state._log(
        ev.ts, "LOAD OK", f"{row.name()}: arriving at {ev.ratio:.0%} of the playback rate again"
    )


def _on_relabeled(state: DashboardState, ev: RequestRelabeled) -> None:
    row = state._row(ev.request_id, ev.ts)  # (a play's first request: now the live stream)
    row.label = label_for(row.url, ev.label)


def _on_queue(state: DashboardState, ev: QueueAdvanced) -> None:
    state.queue = f"{ev.index + 1}/{ev.length}"
    state.now_playing = ""
    state.chapter = ""
    state.chapters = False
    state.station = ""
    state._log(ev.ts, "QUEUE", f"{state.queue} {sanitize(ev.url, 120)}")


RADIO_HANDLERS: dict[type, Callable[[Any, Any], None]] = {
    StationDetails: _on_station,
    TitleChanged: _on_title,
    StreamGap: _on_gap,
    StreamReconnecting: _on_reconnecting,
    QueueAdvanced: _on_queue,
    LoadRecovered: _on_recovered,
    RequestRelabeled: _on_relabeled,
}
