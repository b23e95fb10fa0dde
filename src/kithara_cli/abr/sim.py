"""A deterministic, event-driven ABR simulator: no sockets, no sleeps, no wall clock.

Segment by segment: ask the algorithm for a variant, download the segment over the trace
(latency, then the body at the trace's bandwidth, integrated exactly across periods), and while
it is under way poll ``check_in_flight`` every ``poll_interval_s`` with the same events the real
downloader publishes (FirstByte, RequestProgress every 100 ms, LoadSlow after the soft timeout,
RequestCompleted, RequestCancelled for an abandon). Playback starts when the first segment lands,
stalls when the buffer hits zero and resumes when the next segment lands; the player stops
fetching while a segment would overfill ``max_buffer_s``. Same trace + seed -> same result.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from kithara_cli.abr.baselines import AbrAlgorithm
from kithara_cli.abr.controller import Decision, VariantInfo
from kithara_cli.abr.profiles import Trace
from kithara_cli.events.types import (
    FirstByte,
    LoadSlow,
    RequestCancelled,
    RequestCompleted,
    RequestProgress,
)


@dataclass(frozen=True)
class SimConfig:
    segment_duration: float = 2.0
    max_buffer_s: float = 30.0
    poll_interval_s: float = 0.1
    soft_timeout_s: float = 2.0  # the downloader's LoadSlow threshold (Rust default)
    size_noise: float = 0.1  # segment sizes vary +-10 % around bitrate x duration
    content_s: float | None = None  # default: the trace's own length
    seed: int = 0


@dataclass
class SimResult:
    """Raw outcome of one run; :mod:`kithara_cli.abr.qoe` turns it into metrics."""

    variants: list[int] = field(default_factory=list)  # variant index of each played segment
    bitrates: list[int] = field(default_factory=list)  # nominal bit/s of each played segment
    startup_delay_s: float = 0.0
    rebuffer_count: int = 0
    rebuffer_s: float = 0.0
    wasted_bytes: int = 0
    abandons: int = 0
    downloaded_bytes: int = 0
    download_end_s: float = 0.0
    available_bits: float = 0.0  # what the trace offered over [0, download_end_s]
    decisions: list[Decision] = field(default_factory=list)
    segment_duration: float = 2.0


class Network:
    """The trace as a cumulative-bits function, looped: exact finish times, no stepping."""

    def __init__(self, trace: Trace) -> None:
        self._starts: list[float] = []
        self._cum: list[float] = []
        self._rates: list[float] = []
        self._latency: list[float] = []
        t = bits = 0.0
        for p in trace.periods:
            self._starts.append(t)
            self._cum.append(bits)
            self._rates.append(p.bps)
            self._latency.append(p.latency_s)
            t += p.duration_s
            bits += p.bps * p.duration_s
        self._period = t
        self._loop_bits = bits
        if t <= 0:
            raise ValueError(f"trace {trace.name!r} is empty")

    def _locate(self, t: float) -> tuple[int, float]:
        loops = math.floor(t / self._period)
        r = t - loops * self._period
        i = max(bisect.bisect_right(self._starts, r) - 1, 0)
        return i, loops * self._loop_bits + self._cum[i] + self._rates[i] * (r - self._starts[i])

    def latency_at(self, t: float) -> float:
        r = t - math.floor(t / self._period) * self._period
        return self._latency[max(bisect.bisect_right(self._starts, r) - 1, 0)]

    def bits_until(self, t: float) -> float:
        return self._locate(t)[1]

    def time_when(self, bits: float) -> float:
        """Earliest time by which ``bits`` have been delivered since time 0."""
        if self._loop_bits <= 0:
            return math.inf
        loops = math.floor(bits / self._loop_bits)
        rem = bits - loops * self._loop_bits
        i = bisect.bisect_left(self._cum, rem) - 1
        if i < 0:
            return loops * self._period
        return loops * self._period + self._starts[i] + (rem - self._cum[i]) / self._rates[i]


def segment_sizes(
    ladder: Sequence[VariantInfo], count: int, duration: float, noise: float, seed: int
) -> dict[int, list[int]]:
    """Bytes of every segment of every variant: bitrate x duration, +-noise, seeded."""
    rng = random.Random(f"sizes:{seed}")
    factors = [1.0 + noise * (2.0 * rng.random() - 1.0) for _ in range(count)]
    return {v.index: [max(int(v.bandwidth * duration / 8 * f), 1) for f in factors] for v in ladder}


def simulate(
    trace: Trace,
    ladder: Sequence[VariantInfo],
    algorithm: AbrAlgorithm,
    config: SimConfig | None = None,
) -> SimResult:
    """Play ``trace`` through ``algorithm`` and return what happened."""
    cfg = config or SimConfig()
    net = Network(trace)
    seg = cfg.segment_duration
    content = cfg.content_s if cfg.content_s is not None else trace.duration_s
    count = max(int(content // seg), 1)
    sizes = segment_sizes(ladder, count, seg, cfg.size_noise, cfg.seed)
    bandwidth = {v.index: v.bandwidth for v in ladder}
    res = SimResult(segment_duration=seg)
    state = {"t": 0.0, "buffer": 0.0, "playing": False, "stalled": False}

    def advance(to: float) -> None:
        dt = to - state["t"]
        state["t"] = to
        if dt <= 0 or not state["playing"]:
            return
        if state["stalled"]:
            res.rebuffer_s += dt
        elif state["buffer"] >= dt:
            state["buffer"] -= dt
        else:
            res.rebuffer_s += dt - state["buffer"]
            res.rebuffer_count += 1
            state["buffer"] = 0.0
            state["stalled"] = True

    poll_s = cfg.poll_interval_s if algorithm.needs_progress else math.inf
    request_id = 0
    for k in range(count):
        if state["playing"] and state["buffer"] + seg > cfg.max_buffer_s:
            advance(state["t"] + state["buffer"] + seg - cfg.max_buffer_s)
        decision = algorithm.choose(state["buffer"], state["t"])
        res.decisions.append(decision)
        variant = decision.to_variant
        while True:
            request_id += 1
            rid = request_id
            size = sizes[variant][k]
            algorithm.note_segment_request(rid, variant, int(bandwidth[variant] * seg / 8))
            t0 = state["t"]
            ttfb = net.latency_at(t0)
            flow_start = t0 + ttfb
            bits0 = net.bits_until(flow_start)
            finish = net.time_when(bits0 + size * 8.0)
            first_byte_event = FirstByte(
                request_id=rid, ttfb=ttfb, status=200, partial=False, total=size, ts=flow_start
            )
            first_byte = False
            slow_sent = False
            done = 0
            abandon: Decision | None = None
            poll = t0 + poll_s
            while poll < finish:
                advance(poll)
                if not first_byte and poll >= flow_start:
                    first_byte = True
                    algorithm.on_event(first_byte_event)
                if first_byte:
                    now_done = min(int((net.bits_until(poll) - bits0) / 8.0), size)
                    if now_done > done:  # like the downloader: progress only while bytes flow
                        done = now_done
                        algorithm.on_event(
                            RequestProgress(
                                request_id=rid,
                                bytes_done=done,
                                total=size,
                                elapsed=poll - t0,
                                ts=poll,
                            )
                        )
                if not slow_sent and poll - t0 >= cfg.soft_timeout_s:
                    slow_sent = True
                    algorithm.on_event(
                        LoadSlow(
                            request_id=rid, elapsed=poll - t0, bytes_done=done, total=size, ts=poll
                        )
                    )
                reaction = algorithm.check_in_flight(state["buffer"], poll)
                if reaction is not None:
                    res.decisions.append(reaction)
                    if reaction.abandon_request == rid:
                        abandon = reaction
                        break
                poll += poll_s
            if abandon is not None:
                res.wasted_bytes += done
                res.downloaded_bytes += done
                res.abandons += 1
                algorithm.on_event(
                    RequestCancelled(request_id=rid, reason="abandon", ts=state["t"])
                )
                variant = abandon.to_variant
                continue
            advance(finish)
            if not first_byte:
                algorithm.on_event(first_byte_event)
            body = max(finish - flow_start, 1e-9)
            algorithm.on_event(
                RequestCompleted(
                    request_id=rid,
                    bytes=size,
                    duration=finish - t0,
                    ttfb=ttfb,
                    bandwidth_bps=size * 8.0 / body,
                    ts=finish,
                )
            )
            res.downloaded_bytes += size
            break
        res.variants.append(variant)
        res.bitrates.append(bandwidth[variant])
        state["buffer"] += seg
        state["stalled"] = False
        if not state["playing"]:
            state["playing"] = True
            res.startup_delay_s = state["t"]
    res.download_end_s = state["t"]
    res.available_bits = net.bits_until(state["t"])
    return res
