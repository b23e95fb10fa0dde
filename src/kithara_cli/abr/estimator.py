"""Throughput estimation from the downloader's own measurements.

Time-weighted dual EWMA (the shaka / hls.js design): each completed fetch is one sample, weighted
by the seconds its body took to arrive, so a long slow fetch counts for more than a quick one.
The estimate is the minimum of a fast and a slow average: it falls quickly and rises slowly.

No clock is read here: every method that needs the time takes it as ``now``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from kithara_cli.events.types import Event, FirstByte, RequestCompleted, RequestProgress


@dataclass(frozen=True)
class EstimatorConfig:
    """Knobs of :class:`BandwidthEstimator`; the defaults are sized for audio segments."""

    fast_half_life_s: float = 3.0
    """Half-life, seconds of fetch time, of the average that falls quickly."""
    slow_half_life_s: float = 6.0
    """Half-life of the average that rises slowly: the estimate is the lower of the two."""
    long_half_life_s: float = 60.0
    """A third, long average: not an estimate to fetch by, but what a rung must fit under to
    be worth switching up to on buffer grounds alone (sustainable on average)."""
    recent_window_s: float = 60.0
    """Recent samples kept for a pessimistic rate (a low quantile, weighted by fetch time)."""
    recent_quantile: float = 0.2
    min_sample_bytes: int = 4_000
    """Below this a fetch is mostly headers and one congestion window: its rate means little."""
    min_transfer_s: float = 0.02
    """Clamp for the body time of very quick fetches, so one sample cannot claim Gbit/s."""
    max_weight_s: float = 4.0
    """Weight cap: a fetch that stalled through a 30 s outage is one observation, not 30 s of
    them; uncapped it would pin the averages down long after the link came back."""
    min_weight_s: float | None = None
    """Weight floor: a small segment that arrives in 0.1 s on a fast link is still a whole
    observation of the link; weighted by its transfer time alone, a climb after the link
    improves would take dozens of segments. None: 0 here (pure time weighting); the ABR
    controller sets it to the segment duration (each segment weighs at least its media)."""
    trust_bytes: int = 64_000
    """Audio segments are 8-192 KB: 64 KB is one or two segments, not shaka's 128 KB."""
    default_bps: float = 500_000.0
    """Used before any sample; until trusted, samples may only lower it (see estimate_bps)."""
    ttfb_half_life_samples: float = 3.0
    stall_s: float = 0.5
    """No progress for this long and a fetch under way counts as stalled (rate 0)."""


class Ewma:
    """Exponentially weighted moving average whose weights are durations, with zero-bias fix."""

    __slots__ = ("_alpha", "_estimate", "_total_weight", "half_life")

    def __init__(self, half_life: float) -> None:
        self.half_life = half_life
        self._alpha = 0.5 ** (1.0 / max(half_life, 1e-6))
        self._estimate = 0.0
        self._total_weight = 0.0

    def sample(self, weight: float, value: float) -> None:
        adj = self._alpha ** max(weight, 0.0)
        self._estimate = value * (1.0 - adj) + adj * self._estimate
        self._total_weight += max(weight, 0.0)

    @property
    def total_weight(self) -> float:
        return self._total_weight

    def estimate(self) -> float:
        """The average; divided by the weight seen so far so early samples are not pulled to 0."""
        if self._total_weight <= 0.0:
            return 0.0
        zero_factor = 1.0 - self._alpha**self._total_weight
        return self._estimate / max(zero_factor, 1e-9)


@dataclass
class InFlight:
    """What is known about one fetch still under way (times on the caller's clock)."""

    request_id: int
    bytes_done: int = 0
    elapsed: float = 0.0
    ttfb: float | None = None
    total: int | None = None
    updated_at: float = 0.0
    started_at: float | None = None  # when the request went out
    points: deque[tuple[float, int]] = field(default_factory=deque)  # (at, bytes_done)
    flow_since: tuple[float, int] | None = None  # (at, bytes) where the current flow began

    @property
    def first_byte_at(self) -> float | None:
        if self.started_at is None or self.ttfb is None:
            return None
        return self.started_at + self.ttfb


class BandwidthEstimator:
    """Dual EWMA of body throughput (TTFB taken out), plus the progress of fetches under way.

    ``estimate_bps`` is conservative by construction: ``default_bps`` until the first sample,
    then ``min(default_bps, ewma)`` until ``trust_bytes`` have been sampled, then
    ``min(fast, slow)``. A tiny first sample can therefore lower the estimate but never raise it.
    """

    def __init__(self, config: EstimatorConfig | None = None) -> None:
        self.config = config or EstimatorConfig()
        self._fast = Ewma(self.config.fast_half_life_s)
        self._slow = Ewma(self.config.slow_half_life_s)
        self._long = Ewma(self.config.long_half_life_s)
        self._ttfb = Ewma(self.config.ttfb_half_life_samples)
        self._bytes_sampled = 0
        self._samples = 0
        self._in_flight: dict[int, InFlight] = {}
        self._recent: deque[tuple[float, float, float]] = deque()  # (at, bps, seconds)

    # --- completed fetches -------------------------------------------------------------------

    def observe(self, event: Event, *, subtract_ttfb: bool = True) -> bool:
        """Feed one downloader event (progress, first byte, completion); False if not ours."""
        if isinstance(event, RequestProgress):
            self.add_progress(
                event.request_id, event.bytes_done, event.elapsed, event.ts, event.total
            )
        elif isinstance(event, FirstByte):
            self.note_first_byte(event.request_id, event.ttfb, event.total, event.ts)
        elif isinstance(event, RequestCompleted):
            ttfb = event.ttfb if subtract_ttfb else 0.0
            self.add_sample(event.bytes, event.duration, ttfb, event.ts)
            self.forget(event.request_id)
        else:
            return False
        return True

    def add_sample(self, bytes: int, duration: float, ttfb: float, now: float) -> bool:
        """Feed one completed fetch; returns whether it was used (too small ones are dropped)."""
        if ttfb >= 0.0:
            self._ttfb.sample(1.0, ttfb)
        if bytes < self.config.min_sample_bytes:
            return False
        transfer = max(duration - max(ttfb, 0.0), self.config.min_transfer_s)
        bps = bytes * 8.0 / transfer
        time_weight = min(transfer, self.config.max_weight_s)
        # the estimate follows each fetch (floored weight); what is sustainable is bits over
        # time, so the long average and the recent quantile keep pure time weights
        weight = min(max(transfer, self.config.min_weight_s or 0.0), self.config.max_weight_s)
        self._fast.sample(weight, bps)
        self._slow.sample(weight, bps)
        self._long.sample(time_weight, bps)
        self._recent.append((now, bps, time_weight))
        while self._recent and self._recent[0][0] < now - self.config.recent_window_s:
            self._recent.popleft()
        self._bytes_sampled += bytes
        self._samples += 1
        return True

    def estimate_bps(self) -> float:
        """The bandwidth to plan with, in bits per second (never negative)."""
        if self._samples == 0:
            return self.config.default_bps
        ewma = min(self._fast.estimate(), self._slow.estimate())
        if not self.trusted():
            return min(self.config.default_bps, ewma)
        return ewma

    def low_bps(self) -> float:
        """A pessimistic recent rate: the ``recent_quantile`` of the samples of the last
        ``recent_window_s``, each weighted by its fetch time (slow stretches weigh more).
        Falls back to the estimate when there are no recent samples."""
        if not self._recent:
            return self.estimate_bps()
        ordered = sorted((bps, secs) for _, bps, secs in self._recent)
        total = sum(secs for _, secs in ordered)
        target = total * self.config.recent_quantile
        acc = 0.0
        for bps, secs in ordered:
            acc += secs
            if acc >= target:
                return bps
        return ordered[-1][0]

    def measured_bps(self) -> float:
        """min(fast, slow) whether trusted or not (the default before any sample). For rules
        that can only lower a choice, where an untrusted high sample does no harm."""
        if self._samples == 0:
            return self.config.default_bps
        return min(self._fast.estimate(), self._slow.estimate())

    def trusted(self) -> bool:
        """Enough bytes sampled that the EWMA beats the default."""
        return self._bytes_sampled >= self.config.trust_bytes

    def fast_bps(self) -> float:
        return self._fast.estimate()

    def slow_bps(self) -> float:
        return self._slow.estimate()

    def long_bps(self) -> float:
        """The long average (``long_half_life_s``); the default before any sample."""
        return self._long.estimate() if self._samples else self.config.default_bps

    @property
    def bytes_sampled(self) -> int:
        return self._bytes_sampled

    @property
    def sample_count(self) -> int:
        return self._samples

    def ttfb_estimate(self) -> float:
        """Typical time to first byte, seconds (0.1 s before anything was measured)."""
        return self._ttfb.estimate() if self._ttfb.total_weight > 0 else 0.1

    # --- fetches under way -------------------------------------------------------------------

    def note_first_byte(self, request_id: int, ttfb: float, total: int | None, now: float) -> None:
        info = self._in_flight.setdefault(request_id, InFlight(request_id))
        info.ttfb = ttfb
        info.started_at = now - ttfb
        if total is not None:
            info.total = total
        info.updated_at = now

    def add_progress(
        self,
        request_id: int,
        bytes_done: int,
        elapsed: float,
        now: float,
        total: int | None = None,
    ) -> None:
        """Record how far a fetch under way has got; feeds the abandon rule, not the EWMA."""
        info = self._in_flight.setdefault(request_id, InFlight(request_id))
        last_flow = info.points[-1][0] if info.points else info.first_byte_at
        resumed = last_flow is not None and now - last_flow > self.config.stall_s
        info.bytes_done = max(info.bytes_done, bytes_done)
        if resumed:
            # bytes flow again after a stall: measure the rate from here, not across the gap
            # (this event's bytes arrived at some unknown time within it, so they are left out)
            info.flow_since = (now, info.bytes_done)
        info.elapsed = max(info.elapsed, elapsed)
        info.started_at = now - elapsed
        if total is not None:
            info.total = total
        info.updated_at = now
        info.points.append((now, info.bytes_done))
        while len(info.points) > 64:
            info.points.popleft()

    def in_flight(self, request_id: int) -> InFlight | None:
        return self._in_flight.get(request_id)

    def in_flight_rate_bps(
        self, request_id: int, now: float, min_body_s: float = 0.0, window_s: float = 1.0
    ) -> float | None:
        """Body rate of a fetch under way, bit/s; 0.0 while it is stalled; None until there
        is ``min_body_s`` of flow to judge by.

        Measured up to ``now``, not to the last progress event (a stalled body publishes no
        progress), over the last ``window_s`` at most, and never across a stall: a link that
        just came back is judged by how it flows now, not by its average over the outage.
        """
        info = self._in_flight.get(request_id)
        if info is None:
            return None
        first = info.first_byte_at
        if first is None:
            return None
        last_flow = info.points[-1][0] if info.points else first
        if now - last_flow > self.config.stall_s:
            return 0.0
        t0, b0 = info.flow_since or (first, 0)
        span = now - t0
        if span < max(min_body_s, 1e-3):
            return None
        if 0 < window_s < span:
            since = now - window_s
            for at, done in info.points:
                if at > since:
                    break
                if at >= t0:
                    b0 = done
            span = window_s
        return max(info.bytes_done - b0, 0) * 8.0 / span

    def forget(self, request_id: int) -> InFlight | None:
        """Drop a fetch that completed, failed or was cancelled."""
        return self._in_flight.pop(request_id, None)
