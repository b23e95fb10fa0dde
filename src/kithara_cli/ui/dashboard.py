"""The ``kithara play`` dashboard: a Rich Live view of playback, requests, ABR and events.

Drawing is split from aggregation (``dashboard_state``): publishers only append to a bounded
queue; one UI thread drains it, folds the events into ``DashboardState`` and redraws at most
``hz`` (<= 10) times a second. Every line is laid out by hand to the terminal's width (columns
are dropped, never wrapped) and handed to Rich as plain segments, so network text can't inject
markup (it is never parsed) or escapes (sanitized on arrival) and a frame stays cheap.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len, set_cell_size
from rich.console import Console, ConsoleOptions, RenderResult
from rich.live import Live
from rich.segment import Segment
from rich.style import Style

from kithara_cli.events import Event, EventBus, EventQueue
from kithara_cli.ui.dashboard_state import (
    DashboardSnapshot,
    DashboardState,
    LogEntry,
    RequestView,
    fmt_pair,
    fmt_size,
)
from kithara_cli.ui.sanitize import sanitize

if TYPE_CHECKING:
    from kithara_cli.play.snapshot import Snapshot

log = logging.getLogger(__name__)

MAX_HZ = 10.0
SPARK = "▁▂▃▄▅▆▇█"
WIDE = 120
"""From this width the events log and the ABR panel sit side by side."""

STATE_LOOK: dict[str, tuple[str, str]] = {
    "playing": ("▶", "bold green"),
    "paused": ("‖", "bold yellow"),
    "buffering": ("…", "bold cyan"),
    "seeking": ("»", "bold magenta"),
    "rebuffering": ("!", "bold red"),
    "ended": ("■", "bold"),
}
ROW_STYLE = {
    "queued": "dim",
    "started": "",
    "stalled": "bold yellow",
    "retrying": "bold yellow",
    "done": "green",
    "failed": "bold red",
    "cancelled": "dim",
}
LEVEL_STYLE = {
    "info": "",
    "warn": "yellow",
    "error": "bold red",
    "abr": "cyan",
    "seek": "magenta",
    "good": "green",
}
FOOTER_KEYS = (("space", "pause"), ("←/→", "seek ∓10 s"), ("↑/↓", "volume"), ("q", "quit"))


# --- formatting --------------------------------------------------------------------------------


def fit(text: str, width: int, right: bool = False) -> str:
    """Exactly ``width`` cells: padded, or cut with an ellipsis (wide characters respected)."""
    if width <= 0:
        return ""
    if text.isascii():  # the common case, all in C
        if len(text) <= width:
            return text.rjust(width) if right else text.ljust(width)
        return text[: width - 1] + "…"
    n = cell_len(text)
    if n > width:
        return set_cell_size(text, width - 1) + "…" if width > 1 else "…"
    pad = " " * (width - n)
    return pad + text if right else text + pad


def fmt_rate(bytes_per_s: float | None) -> str:
    return "" if bytes_per_s is None else fmt_size(bytes_per_s) + "/s"


def fmt_bits(bps: float | None) -> str:
    if bps is None or bps <= 0:
        return "?"
    if bps >= 1e6:
        return f"{bps / 1e6:.1f} Mb/s"
    return f"{bps / 1e3:.0f} kb/s"


def fmt_secs(s: float | None) -> str:
    if s is None:
        return ""
    if s < 10:
        return f"{s:.1f}s"
    if s < 100:
        return f"{s:.0f}s"
    m, sec = divmod(int(s), 60)
    return f"{m}m{sec:02d}"


def fmt_ms(s: float | None) -> str:
    if s is None:
        return ""
    return f"{s * 1000:.0f}ms" if s < 1 else f"{s:.1f}s"


def fmt_clock(seconds: float | None) -> str:
    if seconds is None:
        return "-:--"
    s = int(max(seconds, 0.0))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def sparkline(values: Sequence[float], width: int, top: float | None = None) -> str:
    """The last ``width`` values as ``▁▂▃▄▅▆▇█`` (0 at the bottom, ``top`` or the max on top)."""
    if width <= 0:
        return ""
    vals = list(values)[-width:]
    if not vals:
        return " " * width
    hi = top if top is not None else max(vals)
    if hi <= 0:
        return (SPARK[0] * len(vals)).rjust(width)
    last = len(SPARK) - 1
    out = "".join(SPARK[max(0, min(last, round(v / hi * last)))] for v in vals)
    return out.rjust(width)


class Line(list[tuple[str, str]]):
    """One terminal line as (text, style) runs, already laid out to the width.

    Runs of one style are merged as they are added: fewer segments, cheaper frames.
    """

    def add(self, text: str, style: str = "") -> Line:
        if text:
            if self and self[-1][1] == style:
                self[-1] = (self[-1][0] + text, style)
            else:
                self.append((text, style))
        return self

    def join(self, other: Sequence[tuple[str, str]]) -> Line:
        for text, style in other:
            self.add(text, style)
        return self

    @property
    def cells(self) -> int:
        return sum(cell_len(text) for text, _ in self)


def _line(*parts: tuple[str, str]) -> Line:
    return Line().join(parts)


_STYLES: dict[str, Style | None] = {"": None}


def _style(spec: str) -> Style | None:
    style = _STYLES.get(spec, Style.null())
    if style is not None and style is Style.null():
        style = _STYLES[spec] = Style.parse(spec)
    return style


class Frame:
    """A frame of pre-laid-out lines, handed to Rich as plain segments.

    Each text run becomes one ``Segment``: no markup parsing, no wrapping pass. Network text
    was sanitized when it arrived; the ``isprintable`` guard catches anything that slipped by.
    """

    def __init__(self, lines: list[Line]) -> None:
        self.lines = lines

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        newline = Segment.line()
        for line in self.lines:
            for text, style in line:
                if not text.isprintable():
                    text = sanitize(text, len(text) + 1)
                yield Segment(text, _style(style))
            yield newline

    def plain(self) -> str:
        return "\n".join("".join(text for text, _ in line) for line in self.lines)


def rule(title: str, width: int, extra: str = "") -> list[tuple[str, str]]:
    """``── title ─ extra ──────`` to exactly ``width`` cells (extra dropped if it won't fit)."""
    parts: list[tuple[str, str]] = [("── ", "dim"), (f"{title} ", "bold")]
    rem = width - 3 - cell_len(title) - 1
    if extra and cell_len(extra) + 3 <= rem:
        parts.append(("─ ", "dim"))
        parts.append((extra + " ", "dim"))
        rem -= cell_len(extra) + 3
    parts.append(("─" * max(rem, 0), "dim"))
    return parts


# --- header and footer -------------------------------------------------------------------------


def _header(snap: DashboardSnapshot, width: int) -> list[Line]:
    glyph, style = STATE_LOOK.get(snap.state, ("·", "bold"))
    state = fit(f"{glyph} {snap.state}", 14)
    vol = "" if snap.volume is None else f"vol {snap.volume * 100:.0f}%"
    codec = snap.codec if width >= 100 else ""
    right = "  ".join(x for x in (codec, vol) if x)
    title = snap.title or snap.url or "…"
    if snap.station or snap.now_playing:  # a radio stream: what is on air, not the URL
        title = " — ".join(x for x in (snap.station, snap.now_playing) if x)
    if snap.queue:
        title = f"[{snap.queue}] {title}"
    title_w = width - 14 - (cell_len(right) + 2 if right else 0)
    line1 = _line((state, style), (fit(title, title_w), "bold"))
    if right:
        line1.add("  " + right, "dim")

    pos = fmt_clock(snap.position)
    dur = fmt_clock(snap.duration) if snap.duration else "live" if snap.live else "-:--"
    info: list[str] = []
    if snap.buffer_downloaded is not None:
        if width >= 100:
            info.append(f"buffer {snap.buffer_downloaded:.1f} s")
            if snap.buffer_decoded is not None:
                info.append(f"pcm {snap.buffer_decoded:.1f} s")
        else:
            info.append(f"buf {snap.buffer_downloaded:.1f}s")
    if width >= 140:
        info.append(f"underruns {snap.underruns}")
        info.append(f"rebuffers {snap.rebuffers}")
    elif snap.underruns or snap.rebuffers:
        info.append(f"{snap.underruns}u/{snap.rebuffers}r")
    tail = "  " + " · ".join(info) if info else ""
    bar_w = max(width - len(pos) - len(dur) - 2 - cell_len(tail) - 2, 0)
    line2 = _line(("  ", ""), (pos, "bold"), (" ", ""))
    if snap.duration and bar_w > 0:
        frac = min(max((snap.position or 0.0) / snap.duration, 0.0), 1.0)
        done = frac * bar_w
        full = int(done)
        half = "╸" if done - full >= 0.5 and full < bar_w else ""
        rest = bar_w - full - len(half)
        line2.add("━" * full + half, style)
        line2.add("─" * rest, "dim")
    else:
        line2.add(" " * bar_w)
    line2.add(" " + dur, "bold")
    if tail:
        warn = snap.underruns or snap.rebuffers
        line2.add(tail, "yellow" if warn else "dim")
    if snap.caption:
        return [line1, line2, _line(("  ", ""), (fit(snap.caption, width - 2), "bold cyan"))]
    return [line1, line2]


def _footer(width: int) -> Line:
    t = _line((" ", ""))
    for i, (key, what) in enumerate(FOOTER_KEYS):
        if i:
            t.add("  ·  " if width >= 100 else " · ", "dim")
        t.add(key, "bold reverse")
        t.add(" " + what, "")
    return t


# --- requests ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    width: int  # 0 = flexible
    right: bool
    min_width: int  # shown when the terminal is at least this wide


REQUEST_COLUMNS: tuple[Column, ...] = (
    Column("id", "id", 4, True, 0),
    Column("what", "what", 0, False, 0),
    Column("prio", "prio", 8, False, 70),
    Column("state", "state", 9, False, 0),
    Column("bytes", "bytes", 15, True, 0),
    Column("pct", "%", 4, True, 120),
    Column("speed", "speed", 10, True, 0),
    Column("elapsed", "time", 6, True, 64),
    Column("ttfb", "ttfb", 6, True, 100),
    Column("wait", "queued", 7, True, 130),
    Column("try", "try", 5, True, 130),
    Column("url", "url", 0, False, 150),
)


def request_columns(width: int) -> list[tuple[Column, int]]:
    """Columns that fit ``width``, each with its width; the flexible ones share the rest."""
    cols = [c for c in REQUEST_COLUMNS if width >= c.min_width]
    fixed = sum(c.width for c in cols) + len(cols) - 1
    rest = max(width - fixed, 0)
    flex = [c for c in cols if c.width == 0]
    sizes: dict[str, int] = {}
    if len(flex) == 2:
        sizes["what"] = max(min(26, rest // 2), 8)
        sizes["url"] = max(rest - sizes["what"], 0)
    elif flex:
        sizes[flex[0].key] = rest
    return [(c, c.width or sizes[c.key]) for c in cols]


def _state_cell(r: RequestView) -> tuple[str, str]:
    if r.slow and r.state == "started":
        return "SLOW", "bold black on yellow"
    if r.slow and r.state in ("stalled", "retrying"):
        return r.state.upper(), "bold black on yellow"
    return r.state, ROW_STYLE.get(r.state, "")


def _request_cells(r: RequestView) -> dict[str, str]:
    pct = ""
    waiting = r.state == "queued" or (r.ttfb is None and r.bytes_done == 0 and not r.finished)
    if r.total:
        pct = f"{min(100 * r.bytes_done / r.total, 100):.0f}%"
    return {
        "id": str(r.request_id),
        "what": r.label,
        "prio": r.priority,
        "bytes": "" if waiting else fmt_pair(r.bytes_done, r.total),
        "pct": "" if waiting else pct,
        "speed": fmt_rate(r.speed) if r.state not in ("queued", "cancelled") else "",
        "elapsed": fmt_secs(r.elapsed),
        "ttfb": fmt_ms(r.ttfb),
        "wait": fmt_ms(r.queue_wait),
        "try": f"{r.attempt}/{r.max_attempts}" if r.max_attempts else "",
        "url": r.url,
    }


def pick_rows(requests: Sequence[RequestView], limit: int) -> tuple[list[RequestView], int]:
    """At most ``limit`` rows, in-flight ones first, shown in id order; and how many were left."""
    if len(requests) <= limit:
        return list(requests), 0
    keep = max(limit - 1, 0)  # one line says "… N more"
    ordered = sorted(requests, key=lambda r: (r.finished, r.request_id))[:keep]
    ordered.sort(key=lambda r: r.request_id)
    return ordered, len(requests) - keep


def request_lines(snap: DashboardSnapshot, width: int, limit: int) -> list[Line]:
    """The column header plus up to ``limit`` lines of requests."""
    cols = request_columns(width)
    head = _line()
    for i, (c, w) in enumerate(cols):
        head.add((" " if i else "") + fit(c.title, w, c.right), "bold dim")
    lines = [head]
    rows, more = pick_rows(snap.requests, max(limit, 1))
    if not rows:
        lines.append(_line(("  no requests in flight", "dim")))
    split = next(i for i, (c, _) in enumerate(cols) if c.key == "state")
    before, state_w, after = cols[:split], cols[split][1], cols[split + 1 :]
    for r in rows:
        cells = _request_cells(r)
        state_text, state_style = _state_cell(r)
        row_style = "yellow" if r.slow and not r.finished else ROW_STYLE.get(r.state, "")
        # three runs (cells before the state, the state, cells after): few segments per row
        pre = " ".join([fit(cells[c.key], w, c.right) for c, w in before])
        post = " ".join([fit(cells[c.key], w, c.right) for c, w in after])
        t = _line((pre + " " if pre else "", row_style), (fit(state_text, state_w), state_style))
        t.add(" " + post if post else "", row_style)
        lines.append(t)
    if more:
        lines.append(_line((f"  … {more} more", "dim")))
    return lines


def _requests_rule(snap: DashboardSnapshot, width: int) -> Line:
    bits = [f"{snap.in_flight} in flight", f"{snap.completed} done"]
    if snap.failed:
        bits.append(f"{snap.failed} failed")
    if snap.retries:
        bits.append(f"{snap.retries} retries")
    if snap.bytes_downloaded:
        bits.append(fmt_size(snap.bytes_downloaded))
    return _line(*rule("requests", width, " · ".join(bits)))


# --- events log --------------------------------------------------------------------------------


def _wall(ts: float, offset: float, tenths: bool) -> str:
    wall = ts + offset
    base = time.strftime("%H:%M:%S", time.localtime(wall))
    return f"{base}.{int(wall * 10) % 10}" if tenths else base


def event_lines(events: Sequence[LogEntry], offset: float, width: int, limit: int) -> list[Line]:
    """The newest ``limit`` log entries, oldest first (it reads like a log)."""
    if limit <= 0:
        return []
    if not events:
        return [_line((fit("  nothing notable yet", width), "dim"))]
    tenths = width >= 90
    tw = 10 if tenths else 8
    kw = 9
    mw = max(width - tw - kw - 2, 0)
    out = []
    for e in list(events)[-limit:]:
        style = LEVEL_STYLE.get(e.level, "")
        text = e.text if e.count == 1 or e.key.startswith("cancel") else f"{e.text} ×{e.count}"
        out.append(
            _line(
                (_wall(e.ts, offset, tenths) + " ", "dim"),
                (fit(e.kind, kw) + " ", style + " bold" if style else "bold"),
                (fit(text, mw), style),
            )
        )
    return out


# --- ABR ---------------------------------------------------------------------------------------


def _ratio_style(ratio: float) -> str:
    return "green" if ratio >= 1.5 else "yellow" if ratio >= 1.0 else "red"


# What the ladder's marks and figures mean (a bare ┃ and "7.8×" told nobody).
# At most 46 cells: the narrowest ABR panel (wide layout, 120 columns) is 49 wide.
ABR_LEGEND = "▶ playing → next  ┃ estimate  N× = est/bitrate"


def abr_lines(snap: DashboardSnapshot, width: int) -> list[Line]:
    """The ladder (current variant marked, estimate against each bitrate) and two sparklines."""
    out: list[Line] = []
    est = snap.estimate_bps
    if snap.ladder:
        top = max(bw for _, bw, _ in snap.ladder)
        scale = max(top, est or 0.0) * 1.15 or 1.0
        codec_w = 14 if width >= 56 else 0
        fixed = 2 + 4 + 1 + 9 + 1 + (codec_w + 1 if codec_w else 0) + 1 + 6
        bar_w = max(width - fixed, 0)
        for index, bw, codecs in snap.ladder:
            playing = index == snap.current_variant
            loading = index == snap.target_variant and not playing
            mark = "▶ " if playing else "→ " if loading else "  "
            style = "bold" if playing else "" if loading else "dim"
            t = _line((mark, "bold green" if playing else "cyan"), (fit(f"v{index}", 4), style))
            t.add(" " + fit(fmt_bits(bw) if bw else "?", 9, True), style)
            if codec_w:
                t.add(" " + fit(codecs, codec_w), "dim")
            if bar_w:
                fill = min(round(bw / scale * bar_w), bar_w)
                bar = ["█"] * fill + ["·"] * (bar_w - fill)
                if est:
                    bar[min(int(est / scale * bar_w), bar_w - 1)] = "┃"
                t.add(" " + "".join(bar), "green" if playing else "blue")
            if est and bw:
                ratio = est / bw
                t.add(" " + fit(f"{ratio:.1f}×", 6, True), _ratio_style(ratio))
            out.append(t)
        out.append(_line((fit(ABR_LEGEND, width), "dim")))
    value_w = 14
    spark_w = max(width - 5 - value_w - 1, 0)
    source = f" {snap.estimate_source}" if snap.estimate_source and width >= 48 else ""
    out.append(
        _line(
            ("est  ", "bold"),
            (sparkline(snap.estimate_history, spark_w), "cyan"),
            (" " + fit(fmt_bits(est) + source, value_w), ""),
        )
    )
    buf = snap.buffer_downloaded
    out.append(
        _line(
            ("buf  ", "bold"),
            (sparkline(snap.buffer_history, spark_w), "magenta"),
            (" " + fit("?" if buf is None else f"{buf:.1f} s", value_w), ""),
        )
    )
    return out


# --- the whole frame ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    rows: int  # request lines (including a "… more" line)
    events: int
    abr: bool


def plan(snap: DashboardSnapshot, width: int, height: int | None) -> Plan:
    """Share the terminal's height out: header, footer, requests, events, ABR, in that order."""
    want_rows = max(len(snap.requests), 1)
    want_events = max(len(snap.events), 1)
    abr_h = len(snap.ladder) + (3 if snap.ladder else 2)  # variants, legend, two sparklines
    if height is None:
        return Plan(min(want_rows, 16), min(want_events, 12), True)
    budget = height - 1  # a spare line: a frame as tall as the screen scrolls it
    wide = width >= WIDE
    fixed = 6 if wide else 7  # header 2, requests rule + titles 2, bottom rule(s), footer 1
    fixed += 1 if snap.caption else 0
    show_abr = True
    rest = budget - fixed - (0 if wide else abr_h + 1)
    if rest < 3:
        show_abr = False
        rest = budget - fixed
    bottom_min = max(abr_h, min(want_events, 3)) if wide and show_abr else min(want_events, 3)
    rows = min(want_rows, max(1, rest - bottom_min))
    events = max(min(want_events, rest - rows), 0)
    return Plan(rows, events, show_abr)


def render_dashboard(snap: DashboardSnapshot, width: int, height: int | None = None) -> Frame:
    """One frame, exactly ``width`` columns wide, at most ``height - 1`` lines tall."""
    width = max(width, 20)
    p = plan(snap, width, height)
    lines = _header(snap, width)
    lines.append(_requests_rule(snap, width))
    lines.extend(request_lines(snap, width, p.rows))
    if width >= WIDE:
        abr_w = max(40, min(60, int((width - 3) * 0.42)))
        left_w = width - abr_w - 3
        abr = abr_lines(snap, abr_w) if p.abr else []
        events = event_lines(snap.events, snap.wall_offset, left_w, p.events)
        n = max(len(abr), len(events))
        if p.events and height is not None:
            n = max(len(abr), p.events)
        head = _line(*rule("events", left_w))
        if p.abr:
            head.add("─┬─", "dim")
            head.join(rule("ABR", abr_w))
        lines.append(head)
        for i in range(n):
            # event lines are exactly left_w wide already; only missing ones need filling
            left = Line(events[i]) if i < len(events) else _line((" " * left_w, ""))
            if p.abr:
                left.add(" │ ", "dim")
                if i < len(abr):
                    left.join(abr[i])
            lines.append(left)
    else:
        if p.abr:
            est = fmt_bits(snap.estimate_bps) if snap.estimate_bps else ""
            lines.append(_line(*rule("ABR", width, f"estimate {est}" if est else "")))
            lines.extend(abr_lines(snap, width))
        lines.append(_line(*rule("events", width)))
        lines.extend(event_lines(snap.events, snap.wall_offset, width, p.events))
    lines.append(_footer(width))
    return Frame(lines)


# --- the live loop -----------------------------------------------------------------------------


class LiveView:
    """Drains a bounded bus queue into a ``DashboardState`` and redraws a ``rich.live.Live``.

    Runs on its own thread at most ``hz`` times a second, so publishers (downloader, decoder,
    audio callback) only ever pay for a deque append. Subclasses say what a frame looks like.
    """

    def __init__(
        self,
        bus: EventBus,
        console: Console | None = None,
        *,
        hz: float = MAX_HZ,
        title: str = "",
        clock: Callable[[], float] = time.monotonic,
        queue_size: int = 20_000,
        queue: EventQueue | None = None,
    ) -> None:
        if console is None:
            from kithara_cli.ui.console import stderr_console

            console = stderr_console()
        self.bus = bus
        self.console = console
        self.hz = max(0.5, min(float(hz), MAX_HZ))
        self.clock = clock
        self.queue_size = queue_size
        self.state = DashboardState(title=title)
        self.frames = 0
        self.cpu_seconds = 0.0
        # Subscribed now, not at start(): whatever is published between construction and the
        # first frame (the ladder, the first requests) waits in the queue instead of being lost.
        # A caller that subscribed earlier (``queue``) has kept those since then.
        self._queue: EventQueue | None = queue if queue is not None else bus.queue(queue_size)
        self._live: Live | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._last_width: int | None = None
        self._failed = False

    # subclasses --------------------------------------------------------------------------------

    def snapshot(self, now: float) -> DashboardSnapshot:
        return self.state.snapshot(now)

    def render(self, snap: DashboardSnapshot, width: int, height: int, final: bool) -> Any:
        return render_dashboard(snap, width, height)

    def on_event(self, event: Event) -> None:
        """Called on the UI thread for each drained event, in order."""
        self.state.apply(event)

    # lifecycle ---------------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        if self._queue is None:
            self._queue = self.bus.queue(self.queue_size)
        import sys

        self._live = Live(
            console=self.console,
            auto_refresh=False,
            transient=False,
            redirect_stdout=False,
            # stray stderr lines (logging) go above the dashboard instead of through it
            redirect_stderr=self.console.file is sys.stderr,
            vertical_overflow="crop",
        )
        self._live.start()
        self._thread = threading.Thread(target=self._run, name="kithara-dashboard", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Draw the last state once more and give the terminal back (cursor shown)."""
        live, thread = self._live, self._thread
        if live is None:
            self._unsubscribe()
            return
        self._stop.set()
        if thread is not None:
            thread.join(timeout=2)
        try:
            if thread is None or not thread.is_alive():
                self._frame(final=True)
        except Exception:
            log.exception("dashboard: final frame failed")
        finally:
            live.stop()
            self._unsubscribe()
            self._live = None
            self._thread = None

    def _unsubscribe(self) -> None:
        if self._queue is not None:
            self._queue.unsubscribe()
            self._queue = None

    def __enter__(self) -> LiveView:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # the UI thread -----------------------------------------------------------------------------

    def _run(self) -> None:
        cpu0 = time.thread_time()
        period = 1.0 / self.hz
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self._frame(final=False)
            except Exception:  # a drawing bug must not take playback down with it
                if not self._failed:
                    self._failed = True
                    log.exception("dashboard: frame failed")
            self.cpu_seconds = time.thread_time() - cpu0
            # each frame starts at least one period after the previous one: <= hz, always
            self._stop.wait(max(period - (time.monotonic() - started), 0.0))

    def _frame(self, final: bool) -> None:
        live = self._live
        assert live is not None and self._queue is not None
        on_event = self.on_event
        for event in self._queue.drain():
            on_event(event)
        snap = self.snapshot(self.clock())
        width, height = self.console.size
        if self._last_width is not None and width != self._last_width and live.is_started:
            # the terminal re-flowed the old frame: start from a clean screen, not on top of it
            self.console.clear()
        self._last_width = width
        live.update(self.render(snap, width, height, final), refresh=True)
        self.frames += 1


class LiveDashboard(LiveView):
    """``with LiveDashboard(bus, console, player_snapshot=lambda: player.snapshot): ...``

    ``player_snapshot`` is read once per frame; where given, its state, position, volume,
    buffer and variant win over what the events said (they are the player's own numbers).
    The caller decides whether to use this at all (only on a TTY).
    """

    def __init__(
        self,
        bus: EventBus,
        console: Console | None = None,
        player_snapshot: Callable[[], Snapshot | None] | None = None,
        hz: float = MAX_HZ,
        *,
        title: str = "",
        clock: Callable[[], float] = time.monotonic,
        queue_size: int = 20_000,
        queue: EventQueue | None = None,
        caption: Callable[[], str] | None = None,
    ) -> None:
        super().__init__(
            bus, console, hz=hz, title=title, clock=clock, queue_size=queue_size, queue=queue
        )
        self.player_snapshot = player_snapshot
        self.caption = caption  # read once per frame, as player_snapshot is

    def __enter__(self) -> LiveDashboard:
        self.start()
        return self

    def snapshot(self, now: float) -> DashboardSnapshot:
        snap = merge_player(self.state.snapshot(now), self._player())
        if self.caption is not None:
            snap = dataclasses.replace(snap, caption=sanitize(self.caption(), 200))
        return snap

    def _player(self) -> Snapshot | None:
        if self.player_snapshot is None:
            return None
        try:
            return self.player_snapshot()
        except Exception:
            return None


def merge_player(snap: DashboardSnapshot, player: Snapshot | None) -> DashboardSnapshot:
    """The player's own ``Snapshot`` over the event-derived header fields (``None``: unknown)."""
    if player is None:
        return snap
    changes: dict[str, object] = {
        "state": sanitize(player.state, 16),
        "position": player.position,
        "volume": player.volume,
        "buffer_downloaded": player.buffer_downloaded,
        "buffer_decoded": player.buffer_decoded,
    }
    if player.duration is not None:
        changes["duration"] = player.duration
    if player.variant is not None:
        changes["current_variant"] = player.variant
    return dataclasses.replace(snap, **changes)  # type: ignore[arg-type]


# --- measuring ---------------------------------------------------------------------------------


def _synthetic_feed(bus: EventBus, stop: threading.Event, in_flight: int) -> None:
    """Roughly what a busy HLS playback publishes: ``in_flight`` requests, progress at 10 Hz."""
    from kithara_cli.events.types import (
        AbrDecision,
        BandwidthEstimate,
        BufferLevel,
        FirstByte,
        LadderInfo,
        LoadSlow,
        PlaybackState,
        Position,
        RequestCompleted,
        RequestEnqueued,
        RequestProgress,
        RequestStarted,
        TrackInfo,
    )

    publish = bus.publish
    url = "http://127.0.0.1:8000/ladder/master.m3u8"
    publish(LadderInfo(variants=((0, 64_000, "mp4a.40.2"), (1, 128_000, "mp4a.40.2"))))
    publish(TrackInfo(title=url, url=url, duration=600.0, codec="aac", sample_rate=44100))
    publish(PlaybackState(state="playing"))
    next_id = 0
    active: dict[int, tuple[float, int]] = {}
    t0 = time.monotonic()
    tick = 0
    while not stop.wait(0.1):
        now = time.monotonic()
        tick += 1
        while len(active) < in_flight:
            next_id += 1
            seq = next_id
            publish(
                RequestEnqueued(
                    request_id=seq,
                    url=f"http://127.0.0.1:8000/ladder/v1/seg{seq:05d}.ts",
                    priority="prefetch" if seq % 3 else "demand",
                    label=f"segment {seq} v1",
                )
            )
            publish(RequestStarted(request_id=seq, queue_wait=0.01))
            publish(FirstByte(request_id=seq, ttfb=0.03, status=200, partial=False, total=200_000))
            active[seq] = (now, 200_000)
        for rid, (began, total) in list(active.items()):
            elapsed = now - began
            done = min(int(elapsed / 2.0 * total), total)
            if done >= total:
                del active[rid]
                publish(
                    RequestCompleted(
                        request_id=rid, bytes=total, duration=elapsed, ttfb=0.03, bandwidth_bps=8e5
                    )
                )
            else:
                publish(
                    RequestProgress(request_id=rid, bytes_done=done, total=total, elapsed=elapsed)
                )
                if rid % 7 == 0 and 1.0 <= elapsed < 1.1:
                    publish(LoadSlow(request_id=rid, elapsed=elapsed, bytes_done=done, total=total))
        publish(Position(seconds=now - t0, duration=600.0))
        publish(BufferLevel(downloaded_ahead=8 + tick % 10, decoded_ahead=1.5))
        if tick % 10 == 0:
            publish(BandwidthEstimate(estimate_bps=1.6e6 + 1e5 * (tick % 7)))
        if tick % 50 == 0:
            publish(
                AbrDecision(
                    from_variant=0, to_variant=1, reason="throughput", estimate_bps=1.7e6, buffer=9
                )
            )


def measure_dashboard_cpu(
    seconds: float = 5.0, *, in_flight: int = 16, width: int = 160, height: int = 48
) -> float:
    """CPU of the dashboard's UI thread at 10 Hz, as a fraction of one core.

    A synthetic stream (``in_flight`` requests with progress every 100 ms, position and
    buffer at 10 Hz) is published from another thread; the dashboard draws into a colour
    terminal console that writes to /dev/null. Measured with ``time.thread_time()`` inside the
    UI thread, so the publisher's and the test's own work don't count.
    """
    bus = EventBus()
    stop = threading.Event()
    with open(os.devnull, "w", encoding="utf-8") as sink:
        console = Console(
            file=sink,
            force_terminal=True,
            color_system="truecolor",
            width=width,
            height=height,
            legacy_windows=False,
        )
        feeder = threading.Thread(
            target=_synthetic_feed, args=(bus, stop, in_flight), name="kithara-feed", daemon=True
        )
        dash = LiveDashboard(bus, console, hz=MAX_HZ)
        feeder.start()
        time.sleep(0.3)  # requests in flight before we start counting
        try:
            with dash:
                time.sleep(seconds)
                cpu = dash.cpu_seconds
        finally:
            stop.set()
            feeder.join(timeout=2)
    return cpu / seconds


__all__ = [
    "LiveDashboard",
    "LiveView",
    "fit",
    "fmt_pair",
    "fmt_size",
    "measure_dashboard_cpu",
    "merge_player",
    "render_dashboard",
    "sparkline",
]
