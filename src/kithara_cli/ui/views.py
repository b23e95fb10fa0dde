"""What the dashboards draw: immutable views of requests, log entries, a fetch's progress and
the whole dashboard (``DashboardSnapshot``), and the mutable row the state keeps per request."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from kithara_cli.ui.sanitize import sanitize

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
    ladder_measured: frozenset[int] = frozenset()  # rungs rated by their bytes: "~128 kb/s"
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
    chapter: str = ""  # the file's chapter being played, sanitised
    chapters: bool = False  # the item has chapters (the footer shows their keys)
    queue: str = ""  # "2/5" when playing a queue
    wall_offset: float = 0.0  # add to a monotonic ts to get wall-clock time
    caption: str = ""  # one line on what is being simulated now (the demo's network)

    @property
    def in_flight(self) -> int:
        return sum(1 for r in self.requests if not r.finished)
