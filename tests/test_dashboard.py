"""The play/fetch dashboards, read the way a person reads them: rendered text, not internals.

Frames are built from hand-made event sequences (plain dataclasses with explicit ``ts``) and
printed into a recording Rich console; the assertions are about what is on screen.
"""

from __future__ import annotations

import io
import re
import threading
import time
from dataclasses import dataclass

import pytest
from rich.console import Console

from kithara_cli.events import EventBus
from kithara_cli.events.types import (
    AbrDecision,
    BandwidthEstimate,
    BodyResumed,
    BufferLevel,
    Event,
    FetchProgress,
    FirstByte,
    LadderInfo,
    LoadSlow,
    Notice,
    PlaybackState,
    Position,
    RequestCancelled,
    RequestCompleted,
    RequestEnqueued,
    RequestFailed,
    RequestProgress,
    RequestRetrying,
    RequestStarted,
    SeekCompleted,
    SeekRequested,
    TrackInfo,
    Underrun,
)
from kithara_cli.ui.dashboard import (
    LiveDashboard,
    measure_dashboard_cpu,
    render_dashboard,
    request_columns,
    sparkline,
)
from kithara_cli.ui.dashboard_state import DashboardSnapshot, DashboardState, sanitize
from kithara_cli.ui.fetch_dashboard import FetchDashboard, render_fetch_dashboard

EVIL_URL = "http://cdn.example/[red]boom[/red]\x1b[31m/master.m3u8"


def request(
    rid: int, ts: float, label: str, total: int = 240_000, prio: str = "demand"
) -> list[Event]:
    return [
        RequestEnqueued(
            ts=ts, request_id=rid, url=f"http://h/v2/seg{rid}.ts", priority=prio, label=label
        ),
        RequestStarted(ts=ts, request_id=rid, queue_wait=0.01),
        FirstByte(ts=ts + 0.05, request_id=rid, ttfb=0.05, status=200, partial=False, total=total),
    ]


def session() -> list[Event]:
    """A short HLS playback: ladder, a switch to v2, three requests (one slow), a seek."""
    events: list[Event] = [
        LadderInfo(ts=0.0, variants=((0, 64_000, "mp4a.40.2"), (1, 128_000, "mp4a.40.2"))),
        LadderInfo(
            ts=0.0,
            variants=(
                (0, 64_000, "mp4a.40.2"),
                (1, 128_000, "mp4a.40.2"),
                (2, 256_000, "mp4a.40.2"),
            ),
        ),
        TrackInfo(ts=0.1, title=EVIL_URL, url=EVIL_URL, duration=200.0, codec="aac"),
        PlaybackState(ts=0.2, state="playing"),
        AbrDecision(
            ts=0.3, from_variant=1, to_variant=2, reason="throughput", estimate_bps=2e6, buffer=6
        ),
        *request(12, 1.0, "segment 12 v2"),
        RequestProgress(ts=1.5, request_id=12, bytes_done=60_000, total=240_000, elapsed=0.5),
        RequestProgress(ts=1.6, request_id=12, bytes_done=120_000, total=240_000, elapsed=0.6),
        *request(13, 1.1, "segment 13 v2", prio="prefetch"),
        LoadSlow(ts=1.7, request_id=13, elapsed=0.6, bytes_done=4_000, total=240_000),
        RequestEnqueued(
            ts=1.2, request_id=14, url="http://h/v2/seg14.ts", priority="prefetch", label=""
        ),
        BufferLevel(ts=1.6, downloaded_ahead=7.5, decoded_ahead=1.9),
        Position(ts=1.6, seconds=83.0, duration=200.0),
        SeekRequested(ts=1.7, target=90.0),
        SeekCompleted(ts=1.9, target=90.0, latency=0.24),
    ]
    return sorted(events, key=lambda e: e.ts)


def state_of(events: list[Event]) -> DashboardState:
    state = DashboardState(wall_offset=0.0)
    for event in events:
        state.apply(event)
    return state


def screen(snap: DashboardSnapshot, width: int, height: int | None = None) -> str:
    console = Console(record=True, width=width, force_terminal=True, color_system=None)
    console.print(render_dashboard(snap, width, height))
    return console.export_text()


def line_with(text: str, needle: str) -> str:
    hits = [line for line in text.splitlines() if needle in line]
    assert hits, f"no line with {needle!r} in:\n{text}"
    return hits[0]


def test_in_flight_row_shows_bytes_speed_and_state() -> None:
    text = screen(state_of(session()).snapshot(2.0), 80)
    row = line_with(text, "segment 12 v2")
    assert "120/240 kB" in row
    assert re.search(r"\d+ kB/s", row), row
    assert "started" in row
    assert "demand" in row
    queued = line_with(text, "seg14.ts")  # no label: the URL's file name says what it is
    assert "queued" in queued


def test_load_slow_row_stands_out_and_is_logged() -> None:
    text = screen(state_of(session()).snapshot(2.0), 80)
    assert "SLOW" in line_with(text, "segment 13 v2")
    assert "SLOW" not in line_with(text, "segment 12 v2")
    logged = line_with(text, "LOAD SLOW")
    assert "#13 segment 13 v2" in logged


def test_current_variant_is_marked_on_the_ladder() -> None:
    for width in (80, 160):
        text = screen(state_of(session()).snapshot(2.0), width)
        marked = re.findall(r"▶ v\d.*", text)
        assert len(marked) == 1, text
        assert marked[0].startswith("▶ v2") and "256 kb/s" in marked[0]
        assert "7.8×" in marked[0]  # estimate (2 Mb/s) against this variant's bitrate
        assert "15.6×" in line_with(text, "128 kb/s")


def test_player_snapshot_wins_and_the_abr_target_is_marked_too() -> None:
    from kithara_cli.play import Snapshot
    from kithara_cli.ui.dashboard import merge_player

    snap = state_of(session()).snapshot(2.0)
    player = Snapshot(state="paused", position=95.0, duration=200.0, volume=0.5, variant=1)
    text = screen(merge_player(snap, player), 100)
    assert "paused" in text.splitlines()[0]
    assert "vol 50%" in text.splitlines()[0]
    assert "1:35" in text.splitlines()[1]
    assert line_with(text, "128 kb/s").startswith("▶ v1")  # playing
    assert line_with(text, "256 kb/s").startswith("→ v2")  # what ABR is loading now


def test_network_text_is_printed_literally() -> None:
    events = [
        *session(),
        RequestFailed(ts=1.95, request_id=12, error="HTTP 500 [bold]\x1b]0;pwned\x07", retryable=0),
    ]
    snap = state_of(events).snapshot(2.0)
    text = screen(snap, 160)
    assert "[red]boom[/red]\\x1b[31m" in text
    assert "[bold]\\x1b]0;pwned\\x07" in text
    assert "\x1b" not in text and "\x07" not in text
    # with colours on, the only escapes are our own SGR styles: none came from the network
    raw = io.StringIO()
    console = Console(file=raw, width=160, force_terminal=True, color_system="truecolor")
    console.print(render_dashboard(snap, 160))
    out = raw.getvalue()
    assert "\x1b]" not in out and "\x07" not in out
    assert "\x1b[31m" not in out
    assert "[red]boom[/red]" in out


def test_sanitize_makes_controls_visible_and_keeps_ordinary_text() -> None:
    assert sanitize("plain [red]text[/]") == "plain [red]text[/]"
    assert sanitize("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert sanitize("x\ny\tz") == "x\\ny\\tz"
    assert sanitize("\x9b31m") == "\\x9b31m"  # the 8-bit CSI too
    assert sanitize("abc\u202edef") == "abc\\u202edef"  # bidi override
    assert sanitize("café ♪ 音楽") == "café ♪ 音楽"
    assert len(sanitize("x" * 10_000)) <= 300


def test_80_columns_drop_columns_and_never_wrap() -> None:
    long = "segment 9999 v2 " + "x" * 200
    events = [
        *session(),
        *request(20, 1.8, long),
        *request(21, 1.8, "音楽" * 60),  # double-width characters
        RequestRetrying(
            ts=1.9, request_id=20, attempt=1, max_attempts=6, error="e" * 400, backoff=0.5
        ),
    ]
    snap = state_of(events).snapshot(2.0)
    for width in (60, 80, 100, 120, 159):
        text = screen(snap, width)
        assert all(len(line) <= width for line in text.splitlines()), (width, text)
    narrow = screen(snap, 80)
    header = line_with(narrow, " what ")
    assert "ttfb" not in header and "url" not in header and "queued" not in header
    for column in ("id", "what", "state", "bytes", "speed"):
        assert column in header
    wide = screen(snap, 160)
    header = line_with(wide, " what ")
    for column in ("prio", "ttfb", "queued", "try", "url", "%"):
        assert column in header
    assert "50ms" in line_with(wide, "segment 12 v2")
    assert "http://h/v2/seg12.ts" in line_with(wide, "segment 12 v2")
    assert "50%" in line_with(wide, "segment 12 v2")


def test_column_widths_add_up_to_the_terminal() -> None:
    for width in range(40, 200):
        cols = request_columns(width)
        assert sum(w for _, w in cols) + len(cols) - 1 == width or width < 50


def test_frame_fits_the_terminal_height() -> None:
    events = list(session())
    for rid in range(100, 140):
        events += request(rid, 1.8, f"segment {rid} v2", prio="prefetch")
    snap = state_of(events).snapshot(2.0)
    for width, height in ((80, 24), (160, 48), (100, 12)):
        lines = screen(snap, width, height).splitlines()
        assert len(lines) <= height - 1, (width, height, len(lines))
        assert any("more" in line for line in lines)
        assert "q quit" in lines[-1]
    lines = screen(snap, 80, 24).splitlines()
    assert "segment 12 v2" in "\n".join(lines)  # in-flight rows are kept, lowest id first


def test_finished_rows_linger_then_go() -> None:
    events = [
        *request(1, 0.0, "segment 1 v0"),
        RequestCompleted(
            ts=1.0, request_id=1, bytes=240_000, duration=1.0, ttfb=0.05, bandwidth_bps=2e6
        ),
    ]
    state = state_of(events)
    text = screen(state.snapshot(2.0), 80)
    assert "done" in line_with(text, "segment 1 v0")
    assert "240/240 kB" in line_with(text, "segment 1 v0")
    assert "segment 1 v0" not in screen(state.snapshot(2.6), 80)


def test_events_log_tells_the_story() -> None:
    events = [
        *session(),
        RequestRetrying(
            ts=2.0, request_id=13, attempt=1, max_attempts=6, error="reset", backoff=0.5
        ),
        BodyResumed(ts=2.1, request_id=13, resume=1, from_offset=4000, range_honoured=True),
        *request(30, 2.2, "segment 30 v2"),
        *request(31, 2.2, "segment 31 v2"),
        RequestCancelled(ts=2.3, request_id=30, reason="epoch"),
        RequestCancelled(ts=2.3, request_id=31, reason="epoch"),
        RequestCancelled(ts=2.3, request_id=14, reason="epoch"),
        Underrun(ts=2.4, count=1),
        RequestFailed(ts=2.5, request_id=12, error="HTTP 404", retryable=False),
        Notice(ts=2.6, level="info", message="resumed from 1000 bytes"),
    ]
    state = state_of(events)
    text = screen(state.snapshot(2.7), 160, 60)
    assert "ABR       v1 → v2" in line_with(text, "(throughput)")
    assert "attempt 2/6" in line_with(text, "RETRY")
    assert "from byte 4000" in line_with(text, "RESUMED")
    assert "3 requests (epoch)" in line_with(text, "CANCELLED")  # merged, not three lines
    assert "at 1:30 in 240 ms" in line_with(text, "SEEK DONE")
    assert "UNDERRUN" in text
    assert "HTTP 404" in line_with(text, "FAILED")
    assert "resumed from 1000 bytes" in text
    assert "failed" in line_with(text, "segment 12 v2")
    assert "retries" in line_with(text, "── requests")


def test_estimate_comes_from_abr_else_from_completed_requests() -> None:
    state = DashboardState(wall_offset=0.0)
    for i in range(6):
        state.apply(
            RequestCompleted(
                ts=i * 0.6,
                request_id=i,
                bytes=200_000,
                duration=0.5,
                ttfb=0.05,
                bandwidth_bps=1e6 * (i + 1),
            )
        )
        state.apply(BufferLevel(ts=i * 0.6 + 0.01, downloaded_ahead=float(i), decoded_ahead=1.0))
    snap = state.snapshot(4.0)
    assert snap.estimate_source == "ewma"
    assert snap.estimate_bps is not None and 2e6 < snap.estimate_bps < 6e6
    assert len(snap.estimate_history) == 6  # one sample per 0.5 s of events
    assert snap.estimate_history == tuple(sorted(snap.estimate_history))
    assert snap.buffer_history == (0.0, 1.0, 2.0, 3.0, 4.0)  # sampled as each interval opens
    text = screen(snap, 80)
    assert re.search(r"est\s+[▁▂▃▄▅▆▇█]+ \d\.\d Mb/s ewma", text), text
    assert re.search(r"buf\s+[▁▂▃▄▅▆▇█]+ 5\.0 s", text), text
    state.apply(BandwidthEstimate(ts=4.0, estimate_bps=9e6))
    snap = state.snapshot(4.1)
    assert (snap.estimate_bps, snap.estimate_source) == (9e6, "abr")


def test_sparkline() -> None:
    assert sparkline([0, 1, 2, 3, 4, 5, 6, 7], 8) == "▁▂▃▄▅▆▇█"
    assert sparkline([5.0] * 3, 5) == "  ███"
    assert sparkline(range(100), 10).endswith("█")
    assert len(sparkline(range(100), 10)) == 10
    assert sparkline([], 4) == "    "


def test_no_color_is_respected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    raw = io.StringIO()
    console = Console(file=raw, width=120, force_terminal=True, color_system="truecolor")
    console.print(render_dashboard(state_of(session()).snapshot(2.0), 120))
    colours = set()
    for params in re.findall(r"\x1b\[([0-9;]*)m", raw.getvalue()):
        for p in params.split(";"):
            if p and (30 <= int(p) <= 49 or 90 <= int(p) <= 107):
                colours.add(p)
    assert not colours
    assert "SLOW" in raw.getvalue()  # the marker is text, not only colour


# --- fetch --------------------------------------------------------------------------------------


def test_fetch_dashboard_shows_progress_and_requests() -> None:
    events = [
        FetchProgress(ts=0.0, bytes_done=0, bytes_total=45_600_000, segments_total=40),
        *request(1, 0.1, "segment 3", total=1_140_000),
        RequestProgress(ts=1.0, request_id=1, bytes_done=300_000, total=1_140_000, elapsed=0.9),
        FetchProgress(ts=2.0, bytes_done=12_300_000, bytes_total=45_600_000, segments_done=12),
        LoadSlow(ts=2.0, request_id=1, elapsed=1.9, bytes_done=300_000, total=1_140_000),
    ]
    snap = state_of(events).snapshot(2.1)
    for width in (80, 160):
        console = Console(record=True, width=width, force_terminal=True, color_system=None)
        console.print(render_fetch_dashboard("song [red].ts", snap, width, 24))
        text = console.export_text()
        assert all(len(line) <= width for line in text.splitlines())
        first = text.splitlines()[0]
        assert first.startswith("song [red].ts ━")
        assert "12.3/45.6 MB" in first and "MB/s" in first
        assert "SLOW" in line_with(text, "segment 3")
        assert "0.3/1.1 MB" in line_with(text, "segment 3")
        assert "LOAD SLOW" in text


def test_fetch_dashboard_live_and_plain() -> None:
    bus = EventBus()
    raw = io.StringIO()
    console = Console(file=raw, width=100, height=30, force_terminal=True, color_system=None)
    with FetchDashboard(bus, console, "out.bin") as view:
        for i in range(5):
            bus.publish(FetchProgress(bytes_done=i * 1000, bytes_total=5000))
            time.sleep(0.05)
        bus.publish(Notice(level="info", message="resumed [b]at\x1b 1000"))
        time.sleep(0.15)
    assert view.frames >= 1
    out = raw.getvalue()
    assert "out.bin" in out
    assert "kithara: resumed [b]at\\x1b 1000" in out
    quiet = io.StringIO()
    qconsole = Console(file=quiet, force_terminal=False)
    with FetchDashboard(bus, qconsole, "out.bin", quiet=True) as view:
        bus.publish(FetchProgress(bytes_done=1, bytes_total=2))
    assert view.frames == 0 and quiet.getvalue() == ""


# --- the live loop -------------------------------------------------------------------------------


@dataclass
class Counting:
    calls: int = 0


def live_console() -> tuple[Console, io.StringIO]:
    raw = io.StringIO()
    return Console(file=raw, width=100, height=30, force_terminal=True, color_system=None), raw


def test_live_dashboard_refreshes_at_most_10_hz() -> None:
    bus = EventBus()
    console, raw = live_console()
    stop = threading.Event()

    def flood() -> None:
        rid = 0
        while not stop.is_set():
            rid += 1
            for event in request(rid, time.monotonic(), f"segment {rid} v1"):
                bus.publish(event)
            time.sleep(0.001)

    feeder = threading.Thread(target=flood, daemon=True)
    dash = LiveDashboard(bus, console, player_snapshot=None, hz=50)  # asks too much: capped
    feeder.start()
    with dash:
        time.sleep(0.5)
        frames = dash.frames
    stop.set()
    feeder.join()
    assert 2 <= frames <= 6, frames
    assert "segment" in raw.getvalue()
    assert "\x1b[?25h" in raw.getvalue()  # the cursor is given back


def test_publishing_never_waits_for_the_dashboard() -> None:
    bus = EventBus()
    console, _ = live_console()
    calls = Counting()

    def player_snapshot() -> object:
        calls.calls += 1
        time.sleep(0.05)  # a slow frame: the publisher must not notice
        return None

    timing: dict[str, float] = {}

    def publish(bus: EventBus = bus, key: str = "publish") -> None:
        t0 = time.perf_counter()
        for i in range(10_000):
            bus.publish(RequestProgress(request_id=i % 16, bytes_done=i, total=None, elapsed=0.1))
        timing[key] = time.perf_counter() - t0

    publish(EventBus(), "alone")  # the same work with nobody listening: this machine's pace

    with LiveDashboard(bus, console, player_snapshot=player_snapshot) as dash:
        time.sleep(0.05)
        publisher = threading.Thread(target=publish)
        publisher.start()
        publisher.join()
        time.sleep(0.15)
        rows = len(dash.state.rows)
    # Waiting on the 50 ms frames would cost whole frames; a loaded machine only slows both.
    assert timing["publish"] < 0.5 + 3 * timing["alone"], timing
    assert calls.calls >= 1
    assert rows == 16  # and the events did arrive


def test_measure_dashboard_cpu_smoke() -> None:
    share = measure_dashboard_cpu(0.3)
    assert 0.0 < share < 1.0


@pytest.mark.parametrize(
    ("n", "binary", "mb"),
    [(0, "0 B", "0.0 MB"), (1536, "1.5 KiB", "0.0 MB"), (300_000, "293.0 KiB", "0.3 MB"),
     (3 << 30, "3.0 GiB", "3221.2 MB")],
)  # fmt: skip
def test_size_formatters_live_in_one_module(n: int, binary: str, mb: str) -> None:
    """``cache ls`` (binary units) and fetch's plain lines (whole MB) format sizes with
    ``ui.format``, the one module of the UI's formatters, as the dashboards do."""
    from kithara_cli.ui.format import fmt_mb, fmt_size_binary

    assert fmt_size_binary(n) == binary
    assert fmt_mb(n) == mb
