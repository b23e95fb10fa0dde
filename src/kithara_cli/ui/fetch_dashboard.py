"""``kithara fetch --dashboard``: the progress bar with the in-flight requests under it.

A drop-in for ``FetchProgressView`` (same context-manager surface): on a terminal it draws a
compact Live view off the bus; with ``quiet`` it draws nothing; on a non-terminal console it
hands over to ``FetchProgressView``'s plain lines, so scripts see the same output either way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.text import Text

from kithara_cli.events import Event, EventBus
from kithara_cli.events.types import Notice
from kithara_cli.ui.dashboard import (
    MAX_HZ,
    Frame,
    Line,
    LiveView,
    _line,
    event_lines,
    fit,
    request_lines,
    rule,
)
from kithara_cli.ui.dashboard_state import DashboardSnapshot, FetchView
from kithara_cli.ui.format import fmt_clock, fmt_pair, fmt_rate
from kithara_cli.ui.glyphs import current
from kithara_cli.ui.sanitize import sanitize, sanitize_line

if TYPE_CHECKING:
    from kithara_cli.ui.progress import FetchProgressView

EVENT_LINES = 3


def progress_line(label: str, fetch: FetchView | None, width: int, final: bool = False) -> Line:
    """``label ━━━━━╸──── 12.3/45.6 MB  1.2 MB/s  eta 0:12  12/40 seg``, exactly ``width``."""
    done = fetch.bytes_done if fetch else 0
    total = fetch.bytes_total if fetch else None
    amount = fmt_pair(done, total)
    speed = "" if final or fetch is None else fmt_rate(fetch.speed)
    eta = ""
    if not final and fetch is not None and fetch.eta is not None:
        eta = "eta " + fmt_clock(fetch.eta)
    seg = ""
    if fetch is not None and fetch.segments_total:
        seg = f"{fetch.segments_done}/{fetch.segments_total} seg"
    pieces = [  # (text, cells, shown from this width, style)
        (amount, 16, 0, ""),
        (speed, 10, 0, "cyan"),
        (eta, 9, 90, ""),
        (seg, 13, 60, ""),
    ]
    tail = [(t, w, style) for t, w, min_w, style in pieces if width >= min_w and (t or w <= 10)]
    tail_w = sum(w + 1 for _, w, _ in tail)
    label_w = min(max(len(label), 8), 32, max(width // 4, 8))
    bar_w = max(width - label_w - 1 - tail_w, 0)
    line = _line((fit(label, label_w), "bold"), (" ", ""))
    if total and bar_w:
        g = current()
        frac = min(max(done / total, 0.0), 1.0)
        full = int(frac * bar_w)
        half = g.bar_half if frac * bar_w - full >= 0.5 and full < bar_w else ""
        style = "green" if frac >= 1.0 else "magenta"
        line.add(g.bar_done * full + half, style)
        line.add(g.bar_todo * (bar_w - full - len(half)), "dim")
    else:
        line.add(" " * bar_w)
    for text, w, style in tail:
        line.add(" " + fit(text, w, True), style)
    return line


def render_fetch_dashboard(
    label: str, snap: DashboardSnapshot, width: int, height: int | None, final: bool = False
) -> Frame:
    """Progress, then as many request rows and recent notable events as the height allows."""
    width = max(width, 20)
    lines = [progress_line(label, snap.fetch, width, final)]
    if final:
        return Frame(lines)
    events = [e for e in snap.events if e.kind != "NOTE"]  # notes are printed as lines above
    want_events = min(len(events), EVENT_LINES)
    budget = 12 if height is None else max(height - 1 - 3 - (want_events + 1 if events else 0), 1)
    bits = [f"{snap.in_flight} in flight", f"{snap.completed} done"]
    if snap.failed:
        bits.append(f"{snap.failed} failed")
    if snap.retries:
        bits.append(f"{snap.retries} retries")
    lines.append(_line(*rule("requests", width, f" {current().sep} ".join(bits))))
    lines.extend(request_lines(snap, width, min(budget, 12)))
    if events:
        lines.append(_line(*rule("events", width)))
        lines.extend(event_lines(events, snap.wall_offset, width, want_events))
    return Frame(lines)


class _FetchLive(LiveView):
    def __init__(self, bus: EventBus, console: Console, label: str, hz: float) -> None:
        super().__init__(bus, console, hz=hz)
        self.label = sanitize(label)

    def on_event(self, event: Event) -> None:
        self.state.apply(event)
        if isinstance(event, Notice):  # kept above the live area, as FetchProgressView does
            self.console.print(Text.assemble(("kithara: ", "dim"), sanitize_line(event.message)))

    def render(self, snap: DashboardSnapshot, width: int, height: int, final: bool) -> Frame:
        return render_fetch_dashboard(self.label, snap, width, height, final)


class FetchDashboard:
    """``with FetchDashboard(bus, console, out.name): job.run()`` - same surface as
    ``FetchProgressView``; falls back to it when the console is not a terminal."""

    def __init__(
        self,
        bus: EventBus,
        console: Console | None = None,
        label: str = "",
        *,
        quiet: bool = False,
        verbose: bool = False,
        hz: float = MAX_HZ,
    ) -> None:
        if console is None:
            from kithara_cli.ui.console import stderr_console

            console = stderr_console()
        self.bus = bus
        self.console = console
        self.label = label
        self.quiet = quiet
        self.verbose = verbose
        self._live: _FetchLive | None = None
        self._plain: FetchProgressView | None = None
        if not quiet and console.is_interactive:  # not a dumb terminal: it can redraw
            self._live = _FetchLive(bus, console, label, hz)
        else:
            from kithara_cli.ui.progress import FetchProgressView

            self._plain = FetchProgressView(bus, label, quiet=quiet, verbose=verbose)

    @property
    def frames(self) -> int:
        return self._live.frames if self._live is not None else 0

    def __enter__(self) -> FetchDashboard:
        if self._live is not None:
            self._live.start()
        elif self._plain is not None:
            self._plain.__enter__()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if self._live is not None:
            self._live.stop()
        elif self._plain is not None:
            self._plain.__exit__(exc_type, *exc)


__all__ = ["FetchDashboard", "progress_line", "render_fetch_dashboard"]
