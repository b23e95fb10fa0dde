"""Drawing the ``kithara play`` dashboard from a ``DashboardSnapshot``: header, requests,
ABR, events and footer, each laid out by hand to the terminal's width (columns are dropped,
never wrapped), with the glyph set chosen for the console (``glyphs.current()``)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len

from kithara_cli.ui.format import (
    fmt_bits,
    fmt_clock,
    fmt_ms,
    fmt_pair,
    fmt_rate,
    fmt_secs,
    fmt_size,
    sparkline,
)
from kithara_cli.ui.frame import Frame, Line, _line, fit, rule
from kithara_cli.ui.glyphs import Glyphs, current
from kithara_cli.ui.views import DashboardSnapshot, LogEntry, RequestView

MAX_HZ = 10.0
WIDE = 120
"""From this width the events log and the ABR panel sit side by side."""

STATE_STYLE = {
    "playing": "bold green",
    "paused": "bold yellow",
    "buffering": "bold cyan",
    "seeking": "bold magenta",
    "rebuffering": "bold red",
    "ended": "bold",
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


# --- header and footer -------------------------------------------------------------------------


def _header(snap: DashboardSnapshot, width: int) -> list[Line]:
    g = current()
    style = STATE_STYLE.get(snap.state, "bold")
    state = fit(f"{g.state(snap.state)} {snap.state}", 14)
    vol = "" if snap.volume is None else f"vol {snap.volume * 100:.0f}%"
    codec = snap.codec if width >= 100 else ""
    right = "  ".join(x for x in (codec, vol) if x)
    title = snap.title or snap.url or g.ellipsis
    if snap.station or snap.now_playing:  # a radio stream: what is on air, not the URL
        title = f" {g.dash} ".join(x for x in (snap.station, snap.now_playing) if x)
    if snap.chapter:  # a podcast's chapter: after the episode's title, not instead of it
        title = f"{title} {g.dash} {snap.chapter}"
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
    tail = "  " + f" {g.sep} ".join(info) if info else ""
    bar_w = max(width - len(pos) - len(dur) - 2 - cell_len(tail) - 2, 0)
    line2 = _line(("  ", ""), (pos, "bold"), (" ", ""))
    if snap.duration and bar_w > 0:
        frac = min(max((snap.position or 0.0) / snap.duration, 0.0), 1.0)
        done = frac * bar_w
        full = int(done)
        half = g.bar_half if done - full >= 0.5 and full < bar_w else ""
        rest = bar_w - full - len(half)
        line2.add(g.bar_done * full + half, style)
        line2.add(g.bar_todo * rest, "dim")
    else:
        line2.add(" " * bar_w)
    line2.add(" " + dur, "bold")
    if tail:
        warn = snap.underruns or snap.rebuffers
        line2.add(tail, "yellow" if warn else "dim")
    if snap.caption:
        return [line1, line2, _line(("  ", ""), (fit(snap.caption, width - 2), "bold cyan"))]
    return [line1, line2]


CHAPTER_KEYS = ("PgUp/PgDn", "chapter")  # (and mpv's ! and @: the README and --help say so)


def _footer(width: int, chapters: bool = False) -> Line:
    """The keys; the chapter keys only for an item with chapters, and only where they fit
    on the line (the rest is as long as before, so it still fits at 52 columns)."""
    g = current()
    keys = list(g.keys)
    if chapters:
        keys.insert(len(keys) - 1, CHAPTER_KEYS)  # before "q quit", which ends it
    t = _footer_line(keys, width)
    return t if sum(cell_len(text) for text, _ in t) <= width else _footer_line(g.keys, width)


def _footer_line(keys: Sequence[tuple[str, str]], width: int) -> Line:
    g = current()
    t = _line((" ", ""))
    for i, (key, what) in enumerate(keys):
        if i:
            t.add(f"  {g.sep}  " if width >= 100 else f" {g.sep} ", "dim")
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
        lines.append(_line((f"  {current().ellipsis} {more} more", "dim")))
    return lines


def _requests_rule(snap: DashboardSnapshot, width: int) -> Line:
    bits = [f"{snap.in_flight} in flight", f"{snap.completed} done"]
    if snap.failed:
        bits.append(f"{snap.failed} failed")
    if snap.retries:
        bits.append(f"{snap.retries} retries")
    if snap.bytes_downloaded:
        bits.append(fmt_size(snap.bytes_downloaded))
    return _line(*rule("requests", width, f" {current().sep} ".join(bits)))


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
    times = current().times
    for e in list(events)[-limit:]:
        style = LEVEL_STYLE.get(e.level, "")
        text = (
            e.text if e.count == 1 or e.key.startswith("cancel") else f"{e.text} {times}{e.count}"
        )
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


def abr_legend(g: Glyphs) -> str:
    """What the ladder's marks and figures mean (a bare ┃ and "7.8×" told nobody).
    At most 46 cells: the narrowest ABR panel (wide layout, 120 columns) is 49 wide."""
    return f"{g.playing} playing {g.next} next  {g.estimate} estimate  N{g.times} = est/bitrate"


def abr_lines(snap: DashboardSnapshot, width: int) -> list[Line]:
    """The ladder (current variant marked, estimate against each bitrate) and two sparklines."""
    out: list[Line] = []
    g = current()
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
            mark = f"{g.playing} " if playing else f"{g.next} " if loading else "  "
            style = "bold" if playing else "" if loading else "dim"
            t = _line((mark, "bold green" if playing else "cyan"), (fit(f"v{index}", 4), style))
            rate = fmt_bits(bw) if bw else "?"
            rate = f"~{rate}" if index in snap.ladder_measured else rate  # measured (hls.rerate)
            t.add(" " + fit(rate, 9, True), style)
            if codec_w:
                t.add(" " + fit(codecs, codec_w), "dim")
            if bar_w:
                fill = min(round(bw / scale * bar_w), bar_w)
                bar = [g.fill] * fill + [g.empty] * (bar_w - fill)
                if est:
                    bar[min(int(est / scale * bar_w), bar_w - 1)] = g.estimate
                t.add(" " + "".join(bar), "green" if playing else "blue")
            if est and bw:
                ratio = est / bw
                t.add(" " + fit(f"{ratio:.1f}{g.times}", 6, True), _ratio_style(ratio))
            out.append(t)
        out.append(_line((fit(abr_legend(g), width), "dim")))
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
        g = current()
        head = _line(*rule("events", left_w))
        if p.abr:
            head.add(g.rule + g.rule_tee + g.rule, "dim")
            head.join(rule("ABR", abr_w))
        lines.append(head)
        for i in range(n):
            # event lines are exactly left_w wide already; only missing ones need filling
            left = Line(events[i]) if i < len(events) else _line((" " * left_w, ""))
            if p.abr:
                left.add(f" {g.column} ", "dim")
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
    lines.append(_footer(width, snap.chapters))
    return Frame(lines)
