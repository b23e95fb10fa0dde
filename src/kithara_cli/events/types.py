"""Event values. Frozen dataclasses: cheap to build, safe to share between threads."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any


def _now() -> float:
    return time.monotonic()


@dataclass(frozen=True, kw_only=True)
class Event:
    ts: float = field(default_factory=_now)


# --- requests (downloader) -------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RequestEnqueued(Event):
    request_id: int
    url: str
    priority: str  # "demand" | "prefetch"
    label: str = ""  # what it is: "segment 12 v2", "bytes 0-65535", "playlist", "key"
    range_start: int | None = None
    range_end: int | None = None  # exclusive


@dataclass(frozen=True, kw_only=True)
class RequestStarted(Event):
    request_id: int
    queue_wait: float


@dataclass(frozen=True, kw_only=True)
class FirstByte(Event):
    request_id: int
    ttfb: float
    status: int
    partial: bool
    total: int | None = None  # expected body bytes, if known


@dataclass(frozen=True, kw_only=True)
class RequestProgress(Event):
    """Published at most every ~100 ms per request while bytes flow."""

    request_id: int
    bytes_done: int
    total: int | None
    elapsed: float


@dataclass(frozen=True, kw_only=True)
class LoadSlow(Event):
    request_id: int
    elapsed: float
    bytes_done: int = 0
    total: int | None = None


@dataclass(frozen=True, kw_only=True)
class BodyStalled(Event):
    request_id: int
    consumed: int
    expected: int | None
    stall: float


@dataclass(frozen=True, kw_only=True)
class RequestRetrying(Event):
    request_id: int
    attempt: int
    max_attempts: int
    error: str
    backoff: float


@dataclass(frozen=True, kw_only=True)
class BodyResumed(Event):
    request_id: int
    resume: int
    from_offset: int
    range_honoured: bool


@dataclass(frozen=True, kw_only=True)
class RequestCompleted(Event):
    request_id: int
    bytes: int
    duration: float
    ttfb: float
    bandwidth_bps: float  # body bits per second, time to first byte taken out


@dataclass(frozen=True, kw_only=True)
class RequestFailed(Event):
    request_id: int
    error: str
    retryable: bool


@dataclass(frozen=True, kw_only=True)
class RetryExhausted(Event):
    request_id: int
    attempts: int


@dataclass(frozen=True, kw_only=True)
class RequestCancelled(Event):
    request_id: int
    reason: str  # "epoch" | "peer" | "shutdown" | "before_start" | "abandon" | "user"


# --- fetch (whole download) ------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class FetchProgress(Event):
    bytes_done: int
    bytes_total: int | None
    segments_done: int = 0
    segments_total: int | None = None


@dataclass(frozen=True, kw_only=True)
class Notice(Event):
    """A human-readable note worth a log line (resumed from N bytes, gap skipped...)."""

    level: str  # "info" | "warning"
    message: str


# --- playback --------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class PlaybackState(Event):
    state: str  # "buffering" | "playing" | "paused" | "seeking" | "rebuffering" | "ended"


@dataclass(frozen=True, kw_only=True)
class PlaybackStarted(Event):
    time_to_first_audio: float  # seconds since process start
    output_rate: int = 0  # the sink's sample rate
    output: str = ""  # the sink's kind: device, null, wav


@dataclass(frozen=True, kw_only=True)
class Position(Event):
    seconds: float
    duration: float | None


@dataclass(frozen=True, kw_only=True)
class BufferLevel(Event):
    downloaded_ahead: float  # seconds of media downloaded beyond the position
    decoded_ahead: float  # seconds of PCM in the ring buffer


@dataclass(frozen=True, kw_only=True)
class Underrun(Event):
    count: int


@dataclass(frozen=True, kw_only=True)
class RebufferStarted(Event):
    position: float


@dataclass(frozen=True, kw_only=True)
class RebufferEnded(Event):
    position: float
    duration: float


@dataclass(frozen=True, kw_only=True)
class SeekRequested(Event):
    target: float


@dataclass(frozen=True, kw_only=True)
class SeekCompleted(Event):
    target: float
    latency: float


@dataclass(frozen=True, kw_only=True)
class VolumeChanged(Event):
    volume: float


@dataclass(frozen=True, kw_only=True)
class EndOfStream(Event):
    position: float


@dataclass(frozen=True, kw_only=True)
class DecoderError(Event):
    message: str


@dataclass(frozen=True, kw_only=True)
class TrackInfo(Event):
    """What is playing: shown in the dashboard header."""

    title: str
    url: str
    duration: float | None
    codec: str = ""
    sample_rate: int = 0
    channels: int = 0


# --- HLS and ABR -----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class LadderInfo(Event):
    """The variant ladder: (index, bandwidth bps, codecs) per variant."""

    variants: tuple[tuple[int, int, str], ...]


@dataclass(frozen=True, kw_only=True)
class AbrDecision(Event):
    from_variant: int | None
    to_variant: int
    reason: str  # startup | throughput | buffer | load_slow | abandon | manual
    estimate_bps: float
    buffer: float


@dataclass(frozen=True, kw_only=True)
class BandwidthEstimate(Event):
    estimate_bps: float


@dataclass(frozen=True, kw_only=True)
class SegmentLoaded(Event):
    variant: int
    sequence: int
    bytes: int
    duration: float


def event_to_dict(event: Event) -> dict[str, Any]:
    """JSON-ready form: ``{"event": "LoadSlow", "ts": ..., ...fields}``."""
    data = dataclasses.asdict(event)
    return {"event": type(event).__name__, **data}


ALL_EVENT_TYPES: tuple[type[Event], ...] = tuple(
    cls for cls in list(globals().values()) if isinstance(cls, type) and issubclass(cls, Event)
)

__all__ = [cls.__name__ for cls in ALL_EVENT_TYPES]
