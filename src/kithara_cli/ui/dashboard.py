"""The ``kithara play`` dashboard: a Rich Live view of playback, requests, ABR and events.

Drawing is split from aggregation (``dashboard_state``): publishers only append to a bounded
queue; one UI thread drains it, folds the events into ``DashboardState`` and redraws at most
``hz`` (<= 10) times a second. Every line is laid out by hand to the terminal's width (columns
are dropped, never wrapped) and handed to Rich as plain segments, so network text can't inject
markup (it is never parsed) or escapes (sanitized on arrival) and a frame stays cheap.

This module is the live loop (``LiveView``, ``LiveDashboard``, ``merge_player``) and the CPU
measurement; the drawing is ``dashboard_render``, a frame's lines ``frame``, the formatters
``format`` (one of each) and the views ``views``; the names are re-exported here.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.console import Console
from rich.live import Live

from kithara_cli.events import Event, EventBus, EventQueue
from kithara_cli.ui.dashboard_render import (
    MAX_HZ,
    event_lines,
    render_dashboard,
    request_columns,
    request_lines,
)
from kithara_cli.ui.dashboard_state import (
    DashboardSnapshot,
    DashboardState,
)
from kithara_cli.ui.format import fmt_bits, fmt_clock, fmt_pair, fmt_rate, fmt_size, sparkline
from kithara_cli.ui.frame import Frame, Line, _line, fit, rule
from kithara_cli.ui.sanitize import sanitize

if TYPE_CHECKING:
    from kithara_cli.play.snapshot import Snapshot

log = logging.getLogger(__name__)


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

    def render(self, snap: DashboardSnapshot, width: int, height: int, final: bool) -> Frame:
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

    def __exit__(self, *exc: object) -> None:
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
    return dataclasses.replace(
        snap,
        state=sanitize(player.state, 16),
        position=player.position,
        volume=player.volume,
        buffer_downloaded=player.buffer_downloaded,
        buffer_decoded=player.buffer_decoded,
        duration=snap.duration if player.duration is None else player.duration,
        live=player.live,  # (not a file served with no length: its duration is not known yet)
        current_variant=snap.current_variant if player.variant is None else player.variant,
    )


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
    "MAX_HZ",
    "Frame",
    "Line",
    "LiveDashboard",
    "LiveView",
    "_line",
    "event_lines",
    "fit",
    "fmt_bits",
    "fmt_clock",
    "fmt_pair",
    "fmt_rate",
    "fmt_size",
    "measure_dashboard_cpu",
    "merge_player",
    "render_dashboard",
    "request_columns",
    "request_lines",
    "rule",
    "sparkline",
]
