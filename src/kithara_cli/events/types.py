"""Event values: dataclasses, cheap to build, shared between threads and never changed.

This module is on every command's start-up path, and each method a dataclass generates costs
an ``exec`` at import (~0.2 ms a class). So events generate none: one ``__init__`` written
here serves every event class (keyword arguments, checked against the fields, defaults
filled in), ``typing.dataclass_transform`` tells type checkers the signature, equality is
identity and one ``__repr__`` is shared. Nothing assigns to an event once it is built
(publishers build and forget), so no frozen ``__setattr__``. Each class gets a docstring, so
dataclasses need not build one from ``inspect.signature``. Together: ~25 ms off every
start-up against plain ``@dataclass(frozen=True)``.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any, TypeVar, dataclass_transform

_E = TypeVar("_E")


def _now() -> float:
    return time.monotonic()


_event_dataclass = dataclass(kw_only=True, eq=False, repr=False, init=False)

# Per event class: every field name, the required ones, and the plain defaults.
_INIT_SPECS: dict[type, tuple[frozenset[str], frozenset[str], dict[str, Any]]] = {}


@dataclass_transform(kw_only_default=True, field_specifiers=(field,))
def _event(cls: type[_E]) -> type[_E]:
    if not cls.__doc__:
        cls.__doc__ = f"{cls.__name__} event."
    cls = _event_dataclass(cls)
    names, required, defaults = set(), set(), {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        names.add(f.name)
        if f.default is not dataclasses.MISSING:
            defaults[f.name] = f.default
        elif f.default_factory is dataclasses.MISSING:
            required.add(f.name)
    defaults.pop("ts", None)  # the one factory: the time of building
    _INIT_SPECS[cls] = (frozenset(names), frozenset(required), defaults)
    return cls


def _init_event(self: Event, **values: Any) -> None:
    names, required, defaults = _INIT_SPECS[type(self)]
    if not values.keys() <= names or not required <= values.keys():
        unknown = ", ".join(sorted(values.keys() - names))
        missing = ", ".join(sorted(required - values.keys()))
        problems = [f"unknown: {unknown}"] * bool(unknown) + [f"missing: {missing}"] * bool(missing)
        raise TypeError(f"{type(self).__name__}() {'; '.join(problems)}")
    state = self.__dict__
    state.update(defaults)
    state["ts"] = _now()
    state.update(values)


@_event
class Event:
    ts: float = field(default_factory=_now)

    __init__ = _init_event

    def __repr__(self) -> str:
        fields = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self))
        return f"{type(self).__name__}({fields})"


# --- requests (downloader) -------------------------------------------------------------------


@_event
class RequestEnqueued(Event):
    request_id: int
    url: str
    priority: str  # "demand" | "prefetch"
    label: str = ""  # what it is: "segment 12 v2", "bytes 0-65535", "playlist", "key"
    range_start: int | None = None
    range_end: int | None = None  # exclusive


@_event
class RequestStarted(Event):
    request_id: int
    queue_wait: float


@_event
class FirstByte(Event):
    request_id: int
    ttfb: float
    status: int
    partial: bool
    total: int | None = None  # expected body bytes, if known
    from_cache: bool = False  # served from the persistent cache: no request went out


@_event
class RequestProgress(Event):
    """Published at most every ~100 ms per request while bytes flow."""

    request_id: int
    bytes_done: int
    total: int | None
    elapsed: float


@_event
class RequestRelabeled(Event):
    """A running request turned out to fetch other than its label said: the first request
    of a play (``bytes 0-...``), taken over by the live stream it was answered with."""

    request_id: int
    label: str


@_event
class LoadSlow(Event):
    request_id: int
    elapsed: float
    bytes_done: int = 0
    total: int | None = None


@_event
class BodyStalled(Event):
    request_id: int
    consumed: int
    expected: int | None
    stall: float


@_event
class RequestRetrying(Event):
    request_id: int
    attempt: int
    max_attempts: int
    error: str
    backoff: float


@_event
class BodyResumed(Event):
    request_id: int
    resume: int
    from_offset: int
    range_honoured: bool


@_event
class RequestCompleted(Event):
    request_id: int
    bytes: int
    duration: float
    ttfb: float
    bandwidth_bps: float  # body bits per second, time to first byte taken out
    from_cache: bool = False  # every byte came from the persistent cache


@_event
class RequestFailed(Event):
    request_id: int
    error: str
    retryable: bool


@_event
class RetryExhausted(Event):
    request_id: int
    attempts: int


@_event
class RequestCancelled(Event):
    request_id: int
    reason: str  # "epoch" | "peer" | "shutdown" | "before_start" | "abandon" | "user"


# --- fetch (whole download) ------------------------------------------------------------------


@_event
class FetchProgress(Event):
    bytes_done: int
    bytes_total: int | None
    segments_done: int = 0
    segments_total: int | None = None


@_event
class Notice(Event):
    """A human-readable note worth a log line (resumed from N bytes, gap skipped...)."""

    level: str  # "info" | "warning"
    message: str


@_event
class CacheRevalidated(Event):
    """A cached copy was checked against the server (If-None-Match / If-Modified-Since), or
    used unasked while fresh (RFC 9111 freshness)."""

    url: str
    status: int  # 304, or the status of a response that told the version; 0: no answer
    fresh: bool  # the cached copy is the server's current version (or the server is away)
    asked: bool = True  # False: fresh by its Cache-Control/Expires/Last-Modified, no request


# --- playback --------------------------------------------------------------------------------


@_event
class PlaybackState(Event):
    state: str  # "buffering" | "playing" | "paused" | "seeking" | "rebuffering" | "ended"


@_event
class PlaybackStarted(Event):
    time_to_first_audio: float  # seconds since process start
    output_rate: int = 0  # the sink's sample rate
    output: str = ""  # the sink's kind: device, null, wav


@_event
class Position(Event):
    seconds: float
    duration: float | None


@_event
class BufferLevel(Event):
    downloaded_ahead: float  # seconds of media downloaded beyond the position
    decoded_ahead: float  # seconds of PCM in the ring buffer


@_event
class Underrun(Event):
    count: int


@_event
class RebufferStarted(Event):
    position: float


@_event
class RebufferEnded(Event):
    position: float
    duration: float


@_event
class SeekRequested(Event):
    target: float


@_event
class SeekCompleted(Event):
    target: float
    latency: float


@_event
class VolumeChanged(Event):
    volume: float


@_event
class EndOfStream(Event):
    position: float


@_event
class DecoderError(Event):
    message: str


@_event
class TrackInfo(Event):
    """What is playing: shown in the dashboard header."""

    title: str
    url: str
    duration: float | None
    codec: str = ""
    sample_rate: int = 0
    channels: int = 0


# --- HLS and ABR -----------------------------------------------------------------------------


@_event
class LadderInfo(Event):
    """The variant ladder: (index, bandwidth bps, codecs) per variant; published again when
    playback measures an audio rung the master gave no rate for (``hls.rerate``)."""

    variants: tuple[tuple[int, int, str], ...]
    measured: tuple[int, ...] = ()  # the indices whose bandwidth is measured, not advertised


@_event
class AbrDecision(Event):
    from_variant: int | None
    to_variant: int
    reason: str  # startup | throughput | buffer | load_slow | abandon | manual
    estimate_bps: float
    buffer: float


@_event
class BandwidthEstimate(Event):
    estimate_bps: float


@_event
class SegmentLoaded(Event):
    variant: int
    sequence: int
    bytes: int
    duration: float


# --- radio ----------------------------------------------------------------------------------


@_event
class StationDetails(Event):
    """An endless stream's station, from its ``icy-*`` headers (raw network text)."""

    name: str = ""
    genre: str = ""
    bitrate_kbps: int | None = None
    description: str = ""
    url: str = ""
    metaint: int | None = None

    @property
    def is_icy(self) -> bool:
        """The headers named an ICY station (a plain HTTP answer names nothing)."""
        return bool(self.name or self.genre or self.metaint or self.bitrate_kbps)


@_event
class TitleChanged(Event):
    """A new StreamTitle, published when its audio is played (``position``, seconds);
    ``chapter``: the file's own chapter mark instead (a podcast's), shown beside its title."""

    title: str
    url: str = ""
    position: float = 0.0
    byte_offset: int = 0
    chapter: bool = False


@_event
class StreamGap(Event):
    """A live stream dropped and came back at the live edge: ``seconds`` of it were lost."""

    seconds: float
    reconnects: int
    reason: str = ""


@_event
class LoadRecovered(Event):
    """A live stream that was slow (LoadSlow: arriving under its playback rate) arrives at
    ``ratio`` of that rate again."""

    request_id: int
    elapsed: float
    ratio: float = 1.0


@_event
class StreamReconnecting(Event):
    """A live stream dropped (``reason``); reconnect ``attempt`` of ``max_attempts`` follows."""

    attempt: int
    max_attempts: int
    backoff: float
    reason: str = ""


@_event
class QueueAdvanced(Event):
    """The play queue moved to item ``index`` (0-based) of ``length``."""

    index: int
    length: int
    url: str


_FIELD_NAMES: dict[type[Event], tuple[str, ...]] = {}


def event_to_dict(event: Event) -> dict[str, Any]:
    """JSON-ready form: ``{"event": "LoadSlow", "ts": ..., ...fields}``.

    Shallow (every field is a number, a string or a tuple of them): ``dataclasses.asdict``
    deep-copies, and ``--events`` writes thousands of these per fetch.
    """
    cls = type(event)
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    data: dict[str, Any] = {"event": cls.__name__}
    for name in names:
        data[name] = getattr(event, name)
    return data


ALL_EVENT_TYPES: tuple[type[Event], ...] = tuple(
    cls for cls in list(globals().values()) if isinstance(cls, type) and issubclass(cls, Event)
)

__all__ = [cls.__name__ for cls in ALL_EVENT_TYPES]
