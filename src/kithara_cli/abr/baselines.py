"""The algorithms kithara's ABR is measured against, behind the controller's own interface.

Each is a faithful, compact restatement of a published rule (numbers from
/work/shared/notes/abr-reference.md and the Rust kithara-abr crate), not a strawman: the
throughput rule keeps hls.js's abandon check, BBA-0 keeps its rate map and hysteresis. BOLA-E
and DYNAMIC live in :mod:`~kithara_cli.abr.sabre_rules`, robustMPC in :mod:`~kithara_cli.abr.mpc`;
:mod:`~kithara_cli.abr.algorithms` names them all.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Protocol

from kithara_cli.abr.controller import Decision, VariantInfo
from kithara_cli.abr.estimator import BandwidthEstimator, EstimatorConfig
from kithara_cli.events.types import (
    Event,
    RequestCancelled,
    RequestCompleted,
)


class AbrAlgorithm(Protocol):
    """What the simulator (and the player) needs from any ABR algorithm."""

    name: str
    # False lets the simulator skip the 100 ms polls (and progress events) of a fetch under way:
    # only for algorithms whose check_in_flight always returns None and that ignore progress.
    needs_progress: bool

    def on_event(self, event: Event) -> None: ...

    def note_segment_request(
        self, request_id: int, variant: int, expected_bytes: int | None = None
    ) -> None: ...

    def choose(self, buffer_s: float, now: float) -> Decision: ...

    def check_in_flight(self, buffer_s: float, now: float) -> Decision | None: ...


AlgorithmFactory = Callable[[Sequence[VariantInfo], float], AbrAlgorithm]


class _Base:
    """Ladder bookkeeping and event plumbing shared by the baselines."""

    name = "base"
    needs_progress = False

    def __init__(
        self,
        variants: Sequence[VariantInfo],
        segment_duration: float,
        estimator: EstimatorConfig | None = None,
        subtract_ttfb: bool = True,
    ) -> None:
        self.variants = sorted(variants, key=lambda v: v.bandwidth)
        self.bw = [v.bandwidth for v in self.variants]
        self.segment_duration = segment_duration
        self.estimator = BandwidthEstimator(estimator)
        self.subtract_ttfb = subtract_ttfb
        self.current: int | None = None  # ladder position, not variant index
        self.fetches: dict[int, tuple[int, int | None]] = {}
        self.segments_done = 0

    def on_event(self, event: Event) -> None:
        est = self.estimator
        if est.observe(event, subtract_ttfb=self.subtract_ttfb):
            if (
                isinstance(event, RequestCompleted)
                and self.fetches.pop(event.request_id, None) is not None
            ):
                self.segments_done += 1
        elif isinstance(event, RequestCancelled):
            est.forget(event.request_id)
            self.fetches.pop(event.request_id, None)

    def note_segment_request(
        self, request_id: int, variant: int, expected_bytes: int | None = None
    ) -> None:
        pos = next(i for i, v in enumerate(self.variants) if v.index == variant)
        self.fetches[request_id] = (pos, expected_bytes)

    def decide(self, pos: int, reason: str, buffer_s: float, now: float, **kw: int) -> Decision:
        prev = None if self.current is None else self.variants[self.current].index
        self.current = pos
        return Decision(
            to_variant=self.variants[pos].index,
            reason=reason,
            from_variant=prev,
            estimate_bps=self.estimator.estimate_bps(),
            buffer_s=buffer_s,
            at=now,
            abandon_request=kw.get("abandon_request"),
        )

    def check_in_flight(self, buffer_s: float, now: float) -> Decision | None:
        return None


class FixedBaseline(_Base):
    """Always the lowest (or highest) variant: the floor and the ceiling of quality."""

    def __init__(self, variants: Sequence[VariantInfo], segment_duration: float, highest: bool):
        super().__init__(variants, segment_duration)
        self.pos = len(self.variants) - 1 if highest else 0
        self.name = "fixed-highest" if highest else "fixed-lowest"

    def choose(self, buffer_s: float, now: float) -> Decision:
        return self.decide(self.pos, "manual", buffer_s, now)


class ThroughputBaseline(_Base):
    """hls.js: min of 3 s / 9 s EWMAs (500 kbps default), 0.95 x to stay, 0.7 x to go up, the
    fetch must land within the buffer (then within buffer + 4 s), and its abandon rule."""

    name = "throughput"
    needs_progress = True

    def __init__(self, variants: Sequence[VariantInfo], segment_duration: float) -> None:
        cfg = EstimatorConfig(
            fast_half_life_s=3.0,
            slow_half_life_s=9.0,
            min_sample_bytes=0,
            min_transfer_s=0.05,
            trust_bytes=0,
            default_bps=500_000.0,
        )
        super().__init__(variants, segment_duration, cfg)

    def _find(self, est: float, max_fetch_s: float) -> int | None:
        ttfb = self.estimator.ttfb_estimate()
        for pos in range(len(self.bw) - 1, -1, -1):
            up = self.current is not None and pos > self.current
            adjusted = est * (0.7 if up else 0.95)
            if adjusted < self.bw[pos]:
                continue
            if ttfb + self.bw[pos] * self.segment_duration / adjusted <= max_fetch_s:
                return pos
        return None

    def choose(self, buffer_s: float, now: float) -> Decision:
        est = self.estimator.estimate_bps()
        if self.segments_done == 0:
            pos = self._find(est, 4.0)
        else:
            pos = self._find(est, buffer_s)
            if pos is None:
                pos = self._find(est, buffer_s + 4.0)
        reason = "startup" if self.current is None else "throughput"
        return self.decide(0 if pos is None else pos, reason, buffer_s, now)

    def check_in_flight(self, buffer_s: float, now: float) -> Decision | None:
        if not self.fetches:
            return None
        rid, (pos, expected) = next(iter(self.fetches.items()))
        info = self.estimator.in_flight(rid)
        if info is None or info.ttfb is None or pos == 0:
            return None
        elapsed = now - (info.started_at or now)
        if elapsed <= max(info.ttfb, self.segment_duration / 2):
            return None
        total = info.total or expected or self.bw[pos] * self.segment_duration / 8
        body = max(elapsed - info.ttfb, 1e-3)
        rate = info.bytes_done * 8 / body
        if rate > 0:
            remaining_s = (total - info.bytes_done) * 8 / rate
        else:
            remaining_s = total * 8 / self.estimator.estimate_bps() + info.ttfb
        if remaining_s <= buffer_s:
            return None
        bwe = rate if rate > 0 else self.estimator.estimate_bps()
        ttfb = self.estimator.ttfb_estimate()
        next_s = math.inf
        target = pos - 1
        for target in range(pos - 1, -1, -1):
            next_s = ttfb + self.bw[target] * self.segment_duration / bwe
            if next_s < buffer_s:
                break
        if next_s >= remaining_s or next_s > self.segment_duration * 10:
            return None
        self.estimator.add_sample(info.bytes_done, elapsed, info.ttfb, now)
        self.estimator.forget(rid)
        del self.fetches[rid]
        return self.decide(target, "abandon", buffer_s, now, abandon_request=rid)


class BbaBaseline(_Base):
    """BBA-0 (Huang et al. 2014): a linear rate map from a reservoir to the top of a cushion,
    starting at the lowest rate, moving only when the map crosses the next rung."""

    name = "bba"

    def __init__(
        self,
        variants: Sequence[VariantInfo],
        segment_duration: float,
        reservoir_s: float = 5.0,
        upper_s: float = 27.0,
    ) -> None:
        super().__init__(variants, segment_duration)
        self.reservoir = reservoir_s
        self.upper = upper_s

    def _rate_map(self, buffer_s: float) -> float:
        lo, hi = self.bw[0], self.bw[-1]
        if buffer_s <= self.reservoir:
            return lo
        if buffer_s >= self.upper:
            return hi
        return lo + (hi - lo) * (buffer_s - self.reservoir) / (self.upper - self.reservoir)

    def choose(self, buffer_s: float, now: float) -> Decision:
        if self.current is None:
            return self.decide(0, "startup", buffer_s, now)
        prev = self.current
        top = len(self.bw) - 1
        plus = self.bw[min(prev + 1, top)]
        minus = self.bw[max(prev - 1, 0)]
        f = self._rate_map(buffer_s)
        if buffer_s <= self.reservoir:
            pos = 0
        elif buffer_s >= self.upper:
            pos = top
        elif f >= plus:
            pos = max(i for i, b in enumerate(self.bw) if b < f or i == 0)
        elif f <= minus:
            pos = min(i for i, b in enumerate(self.bw) if b > f or i == top)
        else:
            pos = prev
        return self.decide(pos, "buffer", buffer_s, now)


class RustKitharaBaseline(_Base):
    """The Rust kithara-abr controller: min of 2 s / 10 s EWMAs (2 Mbit/s seed, samples under
    16 kB dropped, fetch time not split from TTFB); estimate / 1.5 picks the candidate; up only
    with >= 10 s buffered and 1.3x headroom; down below 0.8x, or at once under 5 s of buffer;
    at most one switch per 30 s (the interval gates every switch, as in its evaluate()).

    Its QoE of exactly 0 on some profiles (it never leaves the bottom rung) is the crate's real
    behaviour, not the simulator's: ``ThroughputEstimator::push_sample`` drops every sample
    under ``MIN_CHUNK_BYTES`` = 16 000 bytes, and ``record_bandwidth`` is called once per
    completed fetch. A 2 s segment at 32 kbit/s is 8 kB (at 64 kbit/s 16 kB +- 10 %), so once
    it is down at the bottom no sample ever lands again and the estimate stays frozen at the
    value that sent it there (checked against zvuk/kithara crates/kithara-abr estimator.rs,
    controller/tick.rs, state/decision.rs). One simplification: the crate starts at the
    player's initial variant and first decides after a fetch completes; here the first
    decision applies the same rule to the 2 Mbit/s seed."""

    name = "rust-kithara"

    def __init__(self, variants: Sequence[VariantInfo], segment_duration: float) -> None:
        cfg = EstimatorConfig(
            fast_half_life_s=2.0,
            slow_half_life_s=10.0,
            min_sample_bytes=16_000,
            min_transfer_s=0.0005,
            trust_bytes=0,
            default_bps=2_000_000.0,
        )
        super().__init__(variants, segment_duration, cfg, subtract_ttfb=False)
        self.last_switch: float | None = None

    def choose(self, buffer_s: float, now: float) -> Decision:
        adjusted = self.estimator.estimate_bps() / 1.5
        under = [i for i, b in enumerate(self.bw) if b <= adjusted]
        cand = under[-1] if under else 0
        if self.current is None:
            return self.decide(cand, "startup", buffer_s, now)
        cur = self.current
        if self.last_switch is not None and now - self.last_switch < 30.0:
            return self.decide(cur, "throughput", buffer_s, now)
        pos = cur
        if cand > cur:
            if buffer_s >= 10.0 and adjusted >= self.bw[cand] * 1.3:
                pos = cand
        elif cand < cur and (buffer_s <= 5.0 or adjusted <= self.bw[cur] * 0.8):
            pos = cand
        if pos != cur:
            self.last_switch = now
        return self.decide(pos, "throughput", buffer_s, now)
