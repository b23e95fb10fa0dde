"""A queue that moves on to the next URL clears the now-playing title: the dashboard's header
does not show the previous item's title over the next item, and no title event carries it
over."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import run_cli
from kithara_cli.events.types import (
    PlaybackState,
    QueueAdvanced,
    StationDetails,
    TitleChanged,
    TrackInfo,
)
from kithara_cli.media import encode_file
from kithara_cli.media.titles import OggLink, chained_ogg
from kithara_cli.ui.dashboard import render_dashboard
from kithara_cli.ui.dashboard_state import DashboardState
from radio_fixtures import read_events

REPLAYED = {c.__name__: c for c in (PlaybackState, QueueAdvanced, StationDetails, TitleChanged)}


def _header(state: DashboardState) -> str:
    return render_dashboard(state.snapshot(state.wall_offset), 140, 40).plain().splitlines()[0]


def test_queue_moving_on_clears_the_previous_items_title(tmp_path: Path) -> None:
    chain = tmp_path / "chain.ogg"
    chain.write_bytes(
        b"".join(chained_ogg("opus", (OggLink("One", "A", 0.6), OggLink("Two", "B", 0.6))))
    )
    encode_file(tmp_path / "plain.mp3", 1.0, "mp3")  # no title of its own
    ev = tmp_path / "ev.jsonl"
    r = run_cli(
        "play", str(chain), str(tmp_path / "plain.mp3"), "--output", "null", "--no-ui",
        "--events", str(ev), timeout=40,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    events = read_events(ev)
    names = [e["event"] for e in events]
    advanced = [i for i, n in enumerate(names) if n == "QueueAdvanced"]
    assert len(advanced) == 2
    titles = [(i, e["title"]) for i, e in enumerate(events) if e["event"] == "TitleChanged"]
    assert [t for _, t in titles] == ["A - One", "B - Two"]
    assert all(i < advanced[1] for i, _ in titles)  # nothing carried over to the next item

    # The dashboard, fed the same events in the same order (as the live UI is).
    state = DashboardState()
    headers: list[str] = []
    for i, e in enumerate(events):
        kind = e.pop("event")
        if kind == "TrackInfo":
            state.apply(TrackInfo(**e))
        elif kind in REPLAYED:
            fields: dict[str, Any] = e
            state.apply(REPLAYED[kind](**fields))
        if i in advanced or i == len(events) - 1:
            headers.append(_header(state))
    assert "B - Two" not in headers[1] and "[2/2]" in headers[1]  # cleared when it moved on
    assert "B - Two" not in headers[-1] and "plain.mp3" in headers[-1]
    assert state.now_playing == ""
