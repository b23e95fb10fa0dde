"""The dashboard's model: events in, an immutable snapshot out. No I/O, no clock of its own.

Kept apart from drawing so it can be tested by feeding a recorded event sequence, and so the
UI thread does all the work: publishers only append to a bounded queue, and this state is
touched by one thread (the one that drains that queue and draws).
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from kithara_cli.events.types import (
    AbrDecision,
    BandwidthEstimate,
    BodyResumed,
    BodyStalled,
    BufferLevel,
    DecoderError,
    EndOfStream,
    Event,
    FetchProgress,
    FirstByte,
    LadderInfo,
    LoadSlow,
    Notice,
    PlaybackStarted,
    PlaybackState,
    Position,
    RebufferEnded,
    RebufferStarted,
    RequestCancelled,
    RequestCompleted,
    RequestEnqueued,
    RequestFailed,
    RequestProgress,
    RequestRetrying,
    RequestStarted,
    RetryExhausted,
    SeekCompleted,
    SeekRequested,
    SegmentLoaded,
    TrackInfo,
    Underrun,
    VolumeChanged,
)
from kithara_cli.ui.radio_state import RADIO_HANDLERS
from kithara_cli.ui.sanitize import sanitize

LINGER = 1.5
"""Seconds a finished request stays on screen, so short requests are seen at all."""
LOG_SIZE = 50
HISTORY_SIZE = 120
SAMPLE_INTERVAL = 0.5
"""Sparkline resolution: 120 points x 0.5 s = the last minute."""
ORPHAN_AFTER = 120.0
"""A row with no news for this long lost its final event (queue overflow): drop it."""
EWMA_ALPHA = 0.3
EWMA_MIN_BYTES = 16_384
"""Bodies smaller than this (playlists, keys) say more about latency than bandwidth."""

ACTIVE_STATES = frozenset({"queued", "started", "stalled", "retrying"})


def label_for(url: str, label: str) -> str:
    """What a request is, for a person: its label, else the last part of its URL path."""
    if label:
        return sanitize(label, 80)
    try:
        path = urlsplit(url).path
    except ValueError:
        path = url
    name = unquote(path.rsplit("/", 1)[-1]) or url
    return sanitize(name, 80)


CACHE_TAG = " [cache]"


@dataclass
class _Row:
    """Mutable per-request record; only the UI thread touches it."""

    request_id: int
    enqueued_at: float
    label: str = ""
    url: str = ""
    priority: str = ""
    state: str = "queued"
    slow: bool = False
    started_at: float | None = None
    queue_wait: float | None = None
    ttfb: float | None = None
    bytes_done: int = 0
    total: int | None = None
    speed: float | None = None  # bytes per second, smoothed
    last_ts: float | None = None  # last RequestProgress
    last_bytes: int = 0
    attempt: int = 1
    max_attempts: int = 0
    resumes: int = 0
    error: str = ""
    finished_at: float | None = None
    duration: float | None = None
    touched: float = 0.0

    def name(self) -> str:
        return f"#{self.request_id} {self.label}" if self.label else f"#{self.request_id}"


@dataclass(frozen=True)
class RequestView:
    request_id: int
    label: str
    url: str
    priority: str
    state: str  # queued | started | stalled | retrying | done | failed | cancelled
    slow: bool
    bytes_done: int
    total: int | None
    speed: float | None  # bytes per second
    elapsed: float
    ttfb: float | None
    queue_wait: float | None
    attempt: int
    max_attempts: int
    error: str
    finished: bool


@dataclass(frozen=True)
class LogEntry:
    ts: float
    kind: str  # short tag shown in a fixed column: "LOAD SLOW", "RETRY", "ABR", ...
    text: str  # already sanitized
    level: str  # info | warn | error | abr | seek | good
    count: int = 1
    key: str = ""  # entries with the same key close together are merged


@dataclass(frozen=True)
class FetchView:
    bytes_done: int
    bytes_total: int | None
    segments_done: int
    segments_total: int | None
    speed: float | None  # bytes per second over the last few seconds
    eta: float | None


@dataclass(frozen=True)
class DashboardSnapshot:
    """Everything one frame needs, as plain values (safe to hand to any renderer)."""

    now: float
    title: str = ""
    url: str = ""
    codec: str = ""
    state: str = "buffering"
    position: float | None = None
    duration: float | None = None
    volume: float | None = None
    buffer_downloaded: float | None = None
    buffer_decoded: float | None = None
    requests: tuple[RequestView, ...] = ()
    events: tuple[LogEntry, ...] = ()
    ladder: tuple[tuple[int, int, str], ...] = ()
    current_variant: int | None = None  # what is playing
    target_variant: int | None = None  # what ABR now loads
    estimate_bps: float | None = None
    estimate_source: str = ""  # "abr" | "ewma" | ""
    estimate_history: tuple[float, ...] = ()
    buffer_history: tuple[float, ...] = ()
    underruns: int = 0
    rebuffers: int = 0
    completed: int = 0
    failed: int = 0
    retries: int = 0
    bytes_downloaded: int = 0
    fetch: FetchView | None = None
    live: bool = False  # TrackInfo said: no duration
    station: str = ""  # icy-name, sanitised
    now_playing: str = ""  # the title being played, sanitised
    queue: str = ""  # "2/5" when playing a queue
    wall_offset: float = 0.0  # add to a monotonic ts to get wall-clock time
    caption: str = ""  # one line on what is being simulated now (the demo's network)

    @property
    def in_flight(self) -> int:
        return sum(1 for r in self.requests if not r.finished)


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    s = int(max(seconds, 0.0))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def fmt_size(n: float | None) -> str:
    """``512 B``, ``12.3 kB``, ``456 kB``, ``1.2 MB``: three significant digits at most."""
    if n is None:
        return "?"
    if n < 1000:
        return f"{n:.0f} B"
    for unit, scale in (("kB", 1e3), ("MB", 1e6), ("GB", 1e9)):
        if n < scale * 1000 or unit == "GB":
            v = n / scale
            return f"{v:.0f} {unit}" if round(v, 1) >= 100 else f"{v:.1f} {unit}"
    return f"{n:.0f} B"  # pragma: no cover


def fmt_pair(done: int, total: int | None) -> str:
    """``120/240 kB``: both numbers in the unit of the total, so the eye compares digits."""
    if not total:
        return fmt_size(done)
    if total < 1000:
        return f"{done}/{total} B"
    unit, scale = ("kB", 1e3) if total < 1e6 else ("MB", 1e6) if total < 1e9 else ("GB", 1e9)
    t = total / scale
    d = done / scale
    if round(t, 1) >= 100:
        return f"{d:.0f}/{t:.0f} {unit}"
    return f"{d:.1f}/{t:.1f} {unit}"


def _bits(bps: float) -> str:
    return f"{bps / 1e6:.1f} Mb/s" if bps >= 1e6 else f"{bps / 1e3:.0f} kb/s"


class DashboardState:
    """Aggregates bus events for the dashboards. ``apply`` each event, ``snapshot(now)`` to draw.

    ``snapshot`` also forgets finished rows older than ``linger`` seconds: that is the only
    place time passes, so a test controls it completely through ``now``.
    """

    def __init__(
        self,
        *,
        title: str = "",
        linger: float = LINGER,
        log_size: int = LOG_SIZE,
        history_size: int = HISTORY_SIZE,
        sample_interval: float = SAMPLE_INTERVAL,
        wall_offset: float | None = None,
    ) -> None:
        self.linger = linger
        self.sample_interval = sample_interval
        self.wall_offset = time.time() - time.monotonic() if wall_offset is None else wall_offset
        self.title = sanitize(title) if title else ""
        self.url = ""
        self.codec = ""
        self.state = "buffering"
        self.position: float | None = None
        self.duration: float | None = None
        self.volume: float | None = None
        self.buffer_downloaded: float | None = None
        self.buffer_decoded: float | None = None
        self.live = False
        self.station = ""
        self.now_playing = ""
        self.queue = ""
        self.rows: dict[int, _Row] = {}
        self.log: collections.deque[LogEntry] = collections.deque(maxlen=log_size)
        self.ladder: tuple[tuple[int, int, str], ...] = ()
        self.current_variant: int | None = None
        self.target_variant: int | None = None
        self.abr_estimate: float | None = None
        self.ewma_estimate: float | None = None
        self.estimate_history: collections.deque[float] = collections.deque(maxlen=history_size)
        self.buffer_history: collections.deque[float] = collections.deque(maxlen=history_size)
        self._last_sample: float | None = None
        self.underruns = 0
        self.rebuffers = 0
        self.completed = 0
        self.failed = 0
        self.retries = 0
        self.bytes_downloaded = 0
        self.fetch: FetchProgress | None = None
        self._fetch_window: collections.deque[tuple[float, int]] = collections.deque(maxlen=64)

    # --- feeding ------------------------------------------------------------------------------

    def apply_all(self, events: list[Event]) -> None:
        for event in events:
            self.apply(event)

    def apply(self, event: Event) -> None:
        """Fold one event in. Unknown event types are ignored (new ones must not break the UI)."""
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            handler(self, event)
        self._sample(event.ts)

    def _sample(self, ts: float) -> None:
        if self._last_sample is not None and ts - self._last_sample < self.sample_interval:
            return
        estimate = self.estimate_bps
        if estimate is None and self.buffer_downloaded is None:
            return
        self._last_sample = ts
        if estimate is not None:
            self.estimate_history.append(estimate)
        if self.buffer_downloaded is not None:
            self.buffer_history.append(self.buffer_downloaded)

    @property
    def estimate_bps(self) -> float | None:
        """The controller's own estimate when it publishes one, else our EWMA of completions."""
        return self.abr_estimate if self.abr_estimate is not None else self.ewma_estimate

    def _log(self, ts: float, kind: str, text: str, level: str = "info", key: str = "") -> None:
        if key and self.log:
            last = self.log[-1]
            if last.key == key and ts - last.ts < 1.0:
                self.log[-1] = LogEntry(ts, kind, text, level, last.count + 1, key)
                return
        self.log.append(LogEntry(ts, kind, text, level, 1, key))

    def _row(self, request_id: int, ts: float) -> _Row:
        row = self.rows.get(request_id)
        if row is None:  # its RequestEnqueued was dropped by a full queue: make do
            row = _Row(request_id=request_id, enqueued_at=ts)
            self.rows[request_id] = row
        row.touched = ts
        return row

    # --- requests -----------------------------------------------------------------------------

    def _on_enqueued(self, ev: RequestEnqueued) -> None:
        row = self._row(ev.request_id, ev.ts)
        row.enqueued_at = ev.ts
        row.url = sanitize(ev.url)
        row.label = label_for(ev.url, ev.label)
        row.priority = sanitize(ev.priority, 16)
        if not self.url:  # until TrackInfo names it, the first URL asked for is "what plays"
            self.url = row.url
        if ev.range_start is not None and ev.range_end is not None:
            row.total = ev.range_end - ev.range_start

    def _on_started(self, ev: RequestStarted) -> None:
        row = self._row(ev.request_id, ev.ts)
        row.state = "started"
        row.started_at = ev.ts
        row.queue_wait = ev.queue_wait

    def _on_first_byte(self, ev: FirstByte) -> None:
        row = self._row(ev.request_id, ev.ts)
        row.ttfb = ev.ttfb
        if ev.from_cache and not row.label.endswith(CACHE_TAG):
            row.label += CACHE_TAG  # served from the persistent cache: no request went out
        if ev.total is not None:
            row.total = ev.total
        if row.state in ("queued", "retrying"):
            row.state = "started"
        if row.started_at is None:
            row.started_at = ev.ts - ev.ttfb

    def _on_progress(self, ev: RequestProgress) -> None:
        row = self._row(ev.request_id, ev.ts)
        if ev.total is not None:
            row.total = ev.total
        if row.last_ts is not None and ev.ts > row.last_ts and ev.bytes_done >= row.last_bytes:
            inst = (ev.bytes_done - row.last_bytes) / (ev.ts - row.last_ts)
            row.speed = inst if row.speed is None else 0.5 * row.speed + 0.5 * inst
        elif row.speed is None:
            body_time = ev.elapsed - (row.ttfb or 0.0)
            if body_time > 0:
                row.speed = ev.bytes_done / body_time
        row.last_ts, row.last_bytes = ev.ts, ev.bytes_done
        row.bytes_done = ev.bytes_done
        if row.started_at is None:
            row.started_at = ev.ts - ev.elapsed
        if row.state in ("queued", "stalled", "retrying"):
            row.state = "started"

    def _on_load_slow(self, ev: LoadSlow) -> None:
        row = self._row(ev.request_id, ev.ts)
        row.slow = True
        row.bytes_done = max(row.bytes_done, ev.bytes_done)
        if ev.total is not None:
            row.total = ev.total
        got = fmt_pair(ev.bytes_done, ev.total)
        self._log(ev.ts, "LOAD SLOW", f"{row.name()}: {got} after {ev.elapsed:.1f} s", "warn")

    def _on_stalled(self, ev: BodyStalled) -> None:
        row = self._row(ev.request_id, ev.ts)
        row.state = "stalled"
        row.bytes_done = max(row.bytes_done, ev.consumed)
        self._log(
            ev.ts,
            "STALLED",
            f"{row.name()}: no bytes for {ev.stall:.0f} s at {fmt_size(ev.consumed)}",
            "warn",
        )

    def _on_retrying(self, ev: RequestRetrying) -> None:
        row = self._row(ev.request_id, ev.ts)
        row.state = "retrying"
        row.attempt = ev.attempt + 1
        row.max_attempts = ev.max_attempts
        row.error = sanitize(ev.error)
        self.retries += 1
        wait = f" in {ev.backoff:.1f} s" if ev.backoff else ""
        self._log(
            ev.ts,
            "RETRY",
            f"{row.name()}: attempt {ev.attempt + 1}/{ev.max_attempts}{wait} after {row.error}",
            "warn",
        )

    def _on_resumed(self, ev: BodyResumed) -> None:
        row = self._row(ev.request_id, ev.ts)
        row.state = "started"
        row.resumes = ev.resume
        how = "range honoured" if ev.range_honoured else "range ignored, skipping"
        self._log(
            ev.ts,
            "RESUMED",
            f"{row.name()}: from byte {ev.from_offset} ({how}, resume {ev.resume})",
            "info",
        )

    def _finish(self, row: _Row, ts: float, state: str) -> None:
        row.state = state
        row.finished_at = ts
        if row.duration is None and row.started_at is not None:
            row.duration = ts - row.started_at

    def _on_completed(self, ev: RequestCompleted) -> None:
        row = self._row(ev.request_id, ev.ts)
        row.bytes_done = ev.bytes
        if row.total is None or row.total < ev.bytes:
            row.total = ev.bytes
        row.ttfb = ev.ttfb
        row.duration = ev.duration
        if ev.bandwidth_bps > 0:
            row.speed = ev.bandwidth_bps / 8
        self._finish(row, ev.ts, "done")
        self.completed += 1
        self.bytes_downloaded += ev.bytes
        if ev.from_cache:
            return  # a cache read's speed is not the network's
        if ev.bandwidth_bps > 0 and (ev.bytes >= EWMA_MIN_BYTES or self.ewma_estimate is None):
            prev = self.ewma_estimate
            self.ewma_estimate = (
                ev.bandwidth_bps
                if prev is None
                else (1 - EWMA_ALPHA) * prev + EWMA_ALPHA * ev.bandwidth_bps
            )

    def _on_failed(self, ev: RequestFailed) -> None:
        row = self._row(ev.request_id, ev.ts)
        row.error = sanitize(ev.error)
        self._finish(row, ev.ts, "failed")
        self.failed += 1
        self._log(ev.ts, "FAILED", f"{row.name()}: {row.error}", "error")

    def _on_exhausted(self, ev: RetryExhausted) -> None:
        row = self._row(ev.request_id, ev.ts)
        self._log(ev.ts, "GAVE UP", f"{row.name()}: after {ev.attempts} attempts", "error")

    def _on_cancelled(self, ev: RequestCancelled) -> None:
        row = self._row(ev.request_id, ev.ts)
        self._finish(row, ev.ts, "cancelled")
        reason = sanitize(ev.reason, 32) or "cancelled"
        key = f"cancel:{reason}"
        last = self.log[-1] if self.log else None
        if last is not None and last.key == key and ev.ts - last.ts < 1.0:
            text = f"{last.count + 1} requests ({reason})"
        else:
            text = f"{row.name()} ({reason})"
        self._log(ev.ts, "CANCELLED", text, "info", key=key)

    # --- fetch --------------------------------------------------------------------------------

    def _on_fetch(self, ev: FetchProgress) -> None:
        self.fetch = ev
        window = self._fetch_window
        if window and ev.bytes_done < window[-1][1]:
            window.clear()  # restarted (resume from a different point)
        window.append((ev.ts, ev.bytes_done))
        while len(window) > 2 and ev.ts - window[0][0] > 3.0:
            window.popleft()

    def _on_notice(self, ev: Notice) -> None:
        level = "warn" if ev.level == "warning" else "info"
        self._log(ev.ts, "NOTE", sanitize(ev.message), level)

    # --- playback -----------------------------------------------------------------------------

    def _on_state(self, ev: PlaybackState) -> None:
        self.state = sanitize(ev.state, 16)

    def _on_started_playing(self, ev: PlaybackStarted) -> None:
        self._log(
            ev.ts, "STARTED", f"first audio {ev.time_to_first_audio:.2f} s after launch", "good"
        )

    def _on_position(self, ev: Position) -> None:
        self.position = ev.seconds
        if ev.duration is not None:
            self.duration = ev.duration

    def _on_buffer(self, ev: BufferLevel) -> None:
        self.buffer_downloaded = ev.downloaded_ahead
        self.buffer_decoded = ev.decoded_ahead

    def _on_underrun(self, ev: Underrun) -> None:
        self.underruns = ev.count if ev.count > 0 else self.underruns + 1
        self._log(ev.ts, "UNDERRUN", f"audio device ran dry ({ev.count} so far)", "error")

    def _on_rebuffer_started(self, ev: RebufferStarted) -> None:
        self.rebuffers += 1
        self._log(ev.ts, "REBUFFER", f"waiting for data at {_clock(ev.position)}", "error")

    def _on_rebuffer_ended(self, ev: RebufferEnded) -> None:
        self._log(
            ev.ts,
            "RESUMED",
            f"playing again at {_clock(ev.position)} after {ev.duration:.2f} s",
            "good",
        )

    def _on_seek(self, ev: SeekRequested) -> None:
        self._log(ev.ts, "SEEK", f"to {_clock(ev.target)}", "seek")

    def _on_seek_done(self, ev: SeekCompleted) -> None:
        self.position = ev.target
        self._log(
            ev.ts,
            "SEEK DONE",
            f"at {_clock(ev.target)} in {ev.latency * 1000:.0f} ms",
            "seek",
        )

    def _on_volume(self, ev: VolumeChanged) -> None:
        self.volume = ev.volume

    def _on_eos(self, ev: EndOfStream) -> None:
        self._log(ev.ts, "END", f"end of stream at {_clock(ev.position)}", "info")

    def _on_decoder_error(self, ev: DecoderError) -> None:
        self._log(ev.ts, "DECODER", sanitize(ev.message), "error")

    def _on_track(self, ev: TrackInfo) -> None:
        self.title = sanitize(ev.title)
        self.url = sanitize(ev.url)
        if ev.duration is not None:
            self.duration = ev.duration
        self.live = ev.duration is None
        parts = [sanitize(ev.codec, 24)] if ev.codec else []
        if ev.sample_rate:
            parts.append(f"{ev.sample_rate / 1000:g} kHz")
        if ev.channels:
            parts.append(f"{ev.channels} ch")
        self.codec = " ".join(parts)

    # --- HLS / ABR ----------------------------------------------------------------------------

    def _on_ladder(self, ev: LadderInfo) -> None:
        self.ladder = tuple(
            (int(i), int(bw), sanitize(codecs, 40)) for i, bw, codecs in ev.variants
        )

    def _on_abr(self, ev: AbrDecision) -> None:
        self.target_variant = ev.to_variant
        if self.current_variant is None:
            self.current_variant = ev.to_variant
        if ev.estimate_bps > 0:
            self.abr_estimate = ev.estimate_bps
        src = "start" if ev.from_variant is None else f"v{ev.from_variant}"
        est = _bits(ev.estimate_bps) if ev.estimate_bps > 0 else "no estimate"
        self._log(
            ev.ts,
            "ABR",
            f"{src} → v{ev.to_variant} ({sanitize(ev.reason, 24)}): {est}, "
            f"buffer {ev.buffer:.1f} s",
            "abr",
        )

    def _on_estimate(self, ev: BandwidthEstimate) -> None:
        if ev.estimate_bps > 0:
            self.abr_estimate = ev.estimate_bps

    def _on_segment(self, ev: SegmentLoaded) -> None:
        if self.current_variant is None:
            self.current_variant = ev.variant

    # --- reading ------------------------------------------------------------------------------

    def prune(self, now: float) -> None:
        """Forget rows that have lingered long enough (or lost their final event)."""
        gone = [
            rid
            for rid, row in self.rows.items()
            if (row.finished_at is not None and now - row.finished_at > self.linger)
            or (row.finished_at is None and now - row.touched > ORPHAN_AFTER)
        ]
        for rid in gone:
            del self.rows[rid]

    def _view(self, row: _Row, now: float) -> RequestView:
        finished = row.finished_at is not None
        if finished:
            elapsed = row.duration if row.duration is not None else 0.0
        elif row.started_at is not None:
            elapsed = now - row.started_at
        else:
            elapsed = now - row.enqueued_at
        speed = row.speed
        if not finished and speed is not None and row.last_ts is not None:
            quiet = now - row.last_ts
            if quiet > 1.0:  # progress events stop when bytes stop: let the figure fall
                speed = speed / quiet
        return RequestView(
            request_id=row.request_id,
            label=row.label,
            url=row.url,
            priority=row.priority,
            state=row.state,
            slow=row.slow,
            bytes_done=row.bytes_done,
            total=row.total,
            speed=speed,
            elapsed=max(elapsed, 0.0),
            ttfb=row.ttfb,
            queue_wait=row.queue_wait,
            attempt=row.attempt,
            max_attempts=row.max_attempts,
            error=row.error,
            finished=finished,
        )

    def _fetch_view(self) -> FetchView | None:
        ev = self.fetch
        if ev is None:
            return None
        speed: float | None = None
        window = self._fetch_window
        if len(window) >= 2 and window[-1][0] > window[0][0]:
            speed = (window[-1][1] - window[0][1]) / (window[-1][0] - window[0][0])
        eta: float | None = None
        if speed and ev.bytes_total:
            eta = max(ev.bytes_total - ev.bytes_done, 0) / speed
        return FetchView(
            ev.bytes_done, ev.bytes_total, ev.segments_done, ev.segments_total, speed, eta
        )

    def snapshot(self, now: float) -> DashboardSnapshot:
        self.prune(now)
        requests = tuple(self._view(row, now) for _, row in sorted(self.rows.items()))
        estimate = self.estimate_bps
        return DashboardSnapshot(
            now=now,
            title=self.title,
            url=self.url,
            codec=self.codec,
            state=self.state,
            position=self.position,
            duration=self.duration,
            volume=self.volume,
            buffer_downloaded=self.buffer_downloaded,
            buffer_decoded=self.buffer_decoded,
            requests=requests,
            events=tuple(self.log),
            ladder=self.ladder,
            current_variant=self.current_variant,
            target_variant=self.target_variant,
            estimate_bps=estimate,
            estimate_source=(
                "abr" if self.abr_estimate is not None else "ewma" if estimate is not None else ""
            ),
            estimate_history=tuple(self.estimate_history),
            buffer_history=tuple(self.buffer_history),
            underruns=self.underruns,
            rebuffers=self.rebuffers,
            completed=self.completed,
            failed=self.failed,
            retries=self.retries,
            bytes_downloaded=self.bytes_downloaded,
            fetch=self._fetch_view(),
            live=self.live,
            station=self.station,
            now_playing=self.now_playing,
            queue=self.queue,
            wall_offset=self.wall_offset,
        )


_HANDLERS: dict[type[Event], Callable[[DashboardState, Any], None]] = {
    RequestEnqueued: DashboardState._on_enqueued,
    RequestStarted: DashboardState._on_started,
    FirstByte: DashboardState._on_first_byte,
    RequestProgress: DashboardState._on_progress,
    LoadSlow: DashboardState._on_load_slow,
    BodyStalled: DashboardState._on_stalled,
    RequestRetrying: DashboardState._on_retrying,
    BodyResumed: DashboardState._on_resumed,
    RequestCompleted: DashboardState._on_completed,
    RequestFailed: DashboardState._on_failed,
    RetryExhausted: DashboardState._on_exhausted,
    RequestCancelled: DashboardState._on_cancelled,
    FetchProgress: DashboardState._on_fetch,
    Notice: DashboardState._on_notice,
    PlaybackState: DashboardState._on_state,
    PlaybackStarted: DashboardState._on_started_playing,
    Position: DashboardState._on_position,
    BufferLevel: DashboardState._on_buffer,
    Underrun: DashboardState._on_underrun,
    RebufferStarted: DashboardState._on_rebuffer_started,
    RebufferEnded: DashboardState._on_rebuffer_ended,
    SeekRequested: DashboardState._on_seek,
    SeekCompleted: DashboardState._on_seek_done,
    VolumeChanged: DashboardState._on_volume,
    EndOfStream: DashboardState._on_eos,
    DecoderError: DashboardState._on_decoder_error,
    TrackInfo: DashboardState._on_track,
    LadderInfo: DashboardState._on_ladder,
    AbrDecision: DashboardState._on_abr,
    BandwidthEstimate: DashboardState._on_estimate,
    SegmentLoaded: DashboardState._on_segment,
}
"""Type -> handler. A dict lookup per event keeps ``apply`` cheap at thousands of events/s."""
_HANDLERS.update(RADIO_HANDLERS)
