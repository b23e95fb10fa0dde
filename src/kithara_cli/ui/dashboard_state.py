"""The dashboard's model: events in, an immutable snapshot out. No I/O, no clock of its own.

Kept apart from drawing so it can be tested by feeding a recorded event sequence, and so the
UI thread does all the work: publishers only append to a bounded queue, and this state is
touched by one thread (the one that drains that queue and draws).
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable
from typing import Any

from kithara_cli.events.types import (
    BodyResumed,
    BodyStalled,
    Event,
    FetchProgress,
    FirstByte,
    LoadSlow,
    Notice,
    RequestCancelled,
    RequestCompleted,
    RequestEnqueued,
    RequestFailed,
    RequestProgress,
    RequestRetrying,
    RequestStarted,
    RetryExhausted,
)
from kithara_cli.ui.format import fmt_pair, fmt_size
from kithara_cli.ui.radio_state import RADIO_HANDLERS
from kithara_cli.ui.sanitize import sanitize
from kithara_cli.ui.state_playback import PLAYBACK_HANDLERS, PlaybackFolding
from kithara_cli.ui.views import (
    DashboardSnapshot,
    FetchView,
    LogEntry,
    RequestView,
    _Row,
    label_for,
)

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
CACHE_TAG = " [cache]"
"""Bodies smaller than this (playlists, keys) say more about latency than bandwidth."""


class DashboardState(PlaybackFolding):
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
        self.chapter = ""
        self.chapters = False  # a chapter was shown: the item has them
        self.queue = ""
        self.rows: dict[int, _Row] = {}
        self.log: collections.deque[LogEntry] = collections.deque(maxlen=log_size)
        self.ladder: tuple[tuple[int, int, str], ...] = ()
        self.ladder_measured: frozenset[int] = frozenset()  # rates from the bytes fetched
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
        text = f"{row.name()}: {fmt_pair(ev.bytes_done, ev.total)} after {ev.elapsed:.1f} s"
        if row.state == "retrying":  # (a refusal, a 503: late, not slow to transfer)
            text += f", retrying (attempt {row.attempt}/{row.max_attempts})"
        self._log(ev.ts, "LOAD SLOW", text, "warn")

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
        if ev.reason == "shutdown":
            return  # the end the user asked for (q, --length, the end): nothing to report
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
            ladder_measured=self.ladder_measured,
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
            chapter=self.chapter,
            chapters=self.chapters,
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
}
"""Type -> handler. A dict lookup per event keeps ``apply`` cheap at thousands of events/s."""
_HANDLERS.update(PLAYBACK_HANDLERS)
_HANDLERS.update(RADIO_HANDLERS)


__all__ = [
    "DashboardSnapshot",
    "DashboardState",
    "FetchView",
    "LogEntry",
    "RequestView",
    "label_for",
    "sanitize",
]
