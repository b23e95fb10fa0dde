"""BOLA-E, the dash.js throughput rule and DYNAMIC, as the sabre simulator implements them.

Restated from ``UMass-LIDS/sabre`` ``src/sabre.py`` (``BolaEnh``, ``ThroughputRule``,
``DynamicDash``; the TOMM'19 paper's reference code, which dash.js's BOLA-E and DYNAMIC follow),
with times in seconds instead of milliseconds. Kept exactly: the utilities ``ln(b) + 1 - ln(b0)``,
``gp`` and ``Vp`` from a 10 s minimum buffer plus 2 s per rung, the placeholder buffer and its
corrections after each download and abandon, the one-rung step up past the throughput rule
(``abr_osc`` off, sabre's default), the insufficient buffer rule (safety 0.9 decaying by 0.9 per
decision to 0.5), BOLA-E's score-based abandon, the throughput rule's 1.8 x segment abandon after
500 ms, DYNAMIC's switch to BOLA-E above 10 s of buffer and back below 5 s, and the first segment
at the lowest rung. Throughput is sabre's default: the min of 3 s / 8 s EWMAs weighted by
download time. The one difference: sabre may ask the player to wait (a "delay") when the buffer
is above BOLA's target; our simulator cannot wait, so the buffer keeps those seconds instead of the
placeholder; BOLA only ever uses their sum, and the player's buffer cap does the waiting.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from kithara_cli.abr.baselines import _Base
from kithara_cli.abr.controller import Decision, VariantInfo
from kithara_cli.abr.estimator import EstimatorConfig
from kithara_cli.events.types import Event, RequestCompleted

MINIMUM_BUFFER_S = 10.0
MINIMUM_BUFFER_PER_LEVEL_S = 2.0
LOW_BUFFER_SAFETY = 0.5
LOW_BUFFER_SAFETY_INIT = 0.9
DEFAULT_BUFFER_S = 30.0  # the simulator's max buffer (sabre's default is 25 s)


def sabre_estimator() -> EstimatorConfig:
    """sabre's throughput history: min of 3 s / 8 s EWMAs weighted by download time."""
    return EstimatorConfig(
        fast_half_life_s=3.0,
        slow_half_life_s=8.0,
        min_sample_bytes=0,
        min_transfer_s=0.001,
        trust_bytes=0,
        max_weight_s=math.inf,
    )


class _Fetching(NamedTuple):
    """The fetch under way, as sabre's abandon rules see it."""

    request: int
    rung: int
    size: int  # bytes: announced, else expected, else the rung's nominal size
    done: int  # bytes downloaded so far
    elapsed: float  # seconds since the request went out, TTFB included
    ttfb: float


@dataclass
class _Done:
    pos: int
    seconds: float  # the download's duration, TTFB included (sabre's metrics.time)
    at: float


class _SabreRule(_Base):
    """sabre's Abr: quality_from_throughput and the per-download report."""

    needs_progress = True

    def __init__(self, variants: Sequence[VariantInfo], segment_duration: float) -> None:
        super().__init__(variants, segment_duration, sabre_estimator())
        self.last_quality = 0
        self._done: list[_Done] = []

    def on_event(self, event: Event) -> None:
        if isinstance(event, RequestCompleted) and event.request_id in self.fetches:
            pos = self.fetches[event.request_id][0]
            self._done.append(_Done(pos, event.duration, event.ts))
        super().on_event(event)

    def known(self) -> bool:
        return self.estimator.sample_count > 0

    def latency(self) -> float:
        return self.estimator.ttfb_estimate()

    def quality_from_throughput(self, tput: float) -> int:
        """The highest rung whose segment arrives within a segment's duration."""
        p = self.segment_duration
        q = 0
        lat = self.latency()
        while q + 1 < len(self.bw) and lat + p * self.bw[q + 1] / max(tput, 1e-9) <= p:
            q += 1
        return q

    def flush_reports(self, buffer_s: float, now: float, playing: bool) -> None:
        """sabre calls report_download when a download lands; we learn of it by event and
        apply it here with the buffer as it was then (played down since, if playing)."""
        for done in self._done:
            level = buffer_s + (now - done.at if playing and buffer_s > 0 else 0.0)
            self.report_download(done, max(level, 0.0))
        self._done.clear()

    def report_download(self, done: _Done, level: float) -> None:
        self.last_quality = done.pos

    def pick(self, buffer_s: float, now: float) -> int:
        raise NotImplementedError

    def abandon_target(self, buffer_s: float, now: float) -> tuple[int, int] | None:
        """(request, rung) to abandon the fetch under way for, or None (sabre's
        check_abandon); each rule has its own ``abandon_rung``."""
        fetching = self._fetching(now)
        if fetching is None:
            return None
        to = self.abandon_rung(fetching, buffer_s)
        return None if to is None else (fetching.request, to)

    def abandon_rung(self, fetching: _Fetching, buffer_s: float) -> int | None:
        """The rung to abandon ``fetching`` for, or None to let it finish."""
        return None

    def report_abandon(self, to: int, level: float) -> None:
        """What the rule updates when it abandons (BOLA-E: its placeholder)."""

    def check_in_flight(self, buffer_s: float, now: float) -> Decision | None:
        found = self.abandon_target(buffer_s, now)
        if found is None:
            return None
        rid, to = found
        self.report_abandon(to, buffer_s)
        self.fetches.pop(rid, None)
        self.estimator.forget(rid)
        return self.decide(to, "abandon", buffer_s, now, abandon_request=rid)

    def choose(self, buffer_s: float, now: float) -> Decision:
        self.flush_reports(buffer_s, now, self.segments_done > 0)
        if self.current is None:
            return self.decide(0, "startup", buffer_s, now)
        return self.decide(self.pick(buffer_s, now), "buffer", buffer_s, now)

    def _fetching(self, now: float) -> _Fetching | None:
        if not self.fetches:
            return None
        rid, (pos, expected) = next(iter(self.fetches.items()))
        info = self.estimator.in_flight(rid)
        if info is None or info.ttfb is None or info.started_at is None:
            return None
        size = info.total or expected or int(self.bw[pos] * self.segment_duration / 8)
        return _Fetching(rid, pos, size, info.bytes_done, now - info.started_at, info.ttfb)


class BolaE(_SabreRule):
    """sabre's BolaEnh (BOLA-E, dash.js's BOLA rule)."""

    name = "bola-e"

    def __init__(
        self,
        variants: Sequence[VariantInfo],
        segment_duration: float,
        buffer_s: float = DEFAULT_BUFFER_S,
    ) -> None:
        super().__init__(variants, segment_duration)
        offset = 1.0 - math.log(self.bw[0])
        self.utilities = [math.log(b) + offset for b in self.bw]
        buffer = MINIMUM_BUFFER_S + MINIMUM_BUFFER_PER_LEVEL_S * len(self.bw)
        buffer = max(buffer, buffer_s)
        self.gp = (self.utilities[-1] - 1.0) / (buffer / MINIMUM_BUFFER_S - 1.0)
        self.vp = MINIMUM_BUFFER_S / self.gp if self.gp > 0 else MINIMUM_BUFFER_S
        self.startup = True
        self.placeholder = 0.0
        self.ibr_safety = LOW_BUFFER_SAFETY_INIT

    def quality_from_buffer(self, level: float) -> int:
        best, score = 0, -math.inf
        for q, b in enumerate(self.bw):
            s = (self.vp * (self.utilities[q] + self.gp) - level) / b
            if s > score:
                best, score = q, s
        return best

    def min_buffer_for_quality(self, quality: int) -> float:
        bitrate, utility = self.bw[quality], self.utilities[quality]
        level = 0.0
        for q in range(quality):
            if self.utilities[q] < utility:
                b, u = self.bw[q], self.utilities[q]
                level = max(
                    level, self.vp * (self.gp + (bitrate * u - b * utility) / (bitrate - b))
                )
        return level

    def max_buffer_for_quality(self, quality: int) -> float:
        return self.vp * (self.utilities[quality] + self.gp)

    def pick(self, buffer_s: float, now: float) -> int:
        if self.startup:
            if not self.known():
                return self.last_quality
            self.startup = False
            self.ibr_safety = LOW_BUFFER_SAFETY_INIT
            quality = self.quality_from_throughput(self.estimator.estimate_bps())
            self.placeholder = max(0.0, self.min_buffer_for_quality(quality) - buffer_s)
            return quality
        tput = self.estimator.estimate_bps()
        quality = self.quality_from_buffer(buffer_s + self.placeholder)
        quality_t = self.quality_from_throughput(tput)
        if quality > self.last_quality and quality > quality_t:
            quality = max(self.last_quality, quality_t) + 1  # abr_osc off (sabre's default)
        surplus = buffer_s + self.placeholder - self.max_buffer_for_quality(quality)
        if surplus > 0:
            # sabre turns the surplus into a wait, first out of the placeholder
            self.placeholder -= min(surplus, self.placeholder)
        # insufficient buffer rule
        safe_bits = self.ibr_safety * (buffer_s - self.latency()) * tput
        self.ibr_safety = max(self.ibr_safety * LOW_BUFFER_SAFETY_INIT, LOW_BUFFER_SAFETY)
        for q in range(quality):
            if self.bw[q + 1] * self.segment_duration > safe_bits:
                quality = q
                max_placeholder = max(0.0, self.min_buffer_for_quality(q) - buffer_s)
                self.placeholder = min(max_placeholder, self.placeholder)
                break
        return quality

    def report_download(self, done: _Done, level: float) -> None:
        self.last_quality = done.pos
        level_was = level + done.seconds
        max_placeholder = max(0.0, self.max_buffer_for_quality(done.pos) - level_was)
        self.placeholder = min(self.placeholder, max_placeholder)
        if level > 0:  # not while rebuffering
            self.placeholder = max(
                self.placeholder, self.min_buffer_for_quality(done.pos) - level_was
            )

    def report_abandon(self, to: int, level: float) -> None:
        want = self.min_buffer_for_quality(to) if to > 0 else MINIMUM_BUFFER_S
        self.placeholder = min(self.placeholder, max(0.0, want - level))

    def abandon_rung(self, fetching: _Fetching, buffer_s: float) -> int | None:
        """BOLA-E's check_abandon."""
        _, pos, size, done, elapsed, ttfb = fetching
        remain = size - done
        if done <= 0 or remain <= 0 or elapsed <= ttfb:
            return None
        bl = max(0.0, buffer_s + self.placeholder - ttfb)
        tp = done / (elapsed - ttfb)
        sz = remain - ttfb * tp
        if sz <= 0:
            return None
        to = None
        score = (self.vp * (self.gp + self.utilities[pos]) - bl) / sz
        for q in range(pos):
            other = size * self.bw[q] / self.bw[pos]
            other_score = (self.vp * (self.gp + self.utilities[q]) - bl) / other
            if other < sz and other_score > score:
                score, to = other_score, q
        return to


class DashThroughput(_SabreRule):
    """sabre's ThroughputRule (dash.js's): 0.9 x the estimate, the insufficient buffer rule,
    and an abandon when the fetch would take over 1.8 segment durations."""

    name = "dash-throughput"
    safety = 0.9
    abandon_multiplier = 1.8
    abandon_grace_s = 0.5

    def __init__(self, variants: Sequence[VariantInfo], segment_duration: float) -> None:
        super().__init__(variants, segment_duration)
        self.ibr_safety = LOW_BUFFER_SAFETY_INIT

    def pick(self, buffer_s: float, now: float) -> int:
        if not self.known():
            return 0
        tput = self.estimator.estimate_bps()
        quality = self.quality_from_throughput(tput * self.safety)
        safe_bits = self.ibr_safety * (buffer_s - self.latency()) * tput
        self.ibr_safety = max(self.ibr_safety * LOW_BUFFER_SAFETY_INIT, LOW_BUFFER_SAFETY)
        for q in range(quality):
            if self.bw[q + 1] * self.segment_duration > safe_bits:
                return q
        return quality

    def abandon_rung(self, fetching: _Fetching, buffer_s: float) -> int | None:
        _, pos, size, done, elapsed, ttfb = fetching
        body = elapsed - ttfb
        if elapsed < self.abandon_grace_s or body <= 0 or done <= 0:
            return None
        tput = done * 8 / body
        left = size - done
        if elapsed + left * 8 / tput <= self.abandon_multiplier * self.segment_duration:
            return None
        q = self.quality_from_throughput(tput * self.safety)
        if q >= pos or size * self.bw[q] / self.bw[pos] >= left:
            return None
        return q


class Dynamic(_Base):
    """sabre's DynamicDash (dash.js DYNAMIC): the throughput rule until the buffer passes
    10 s, BOLA-E from there until it falls under 5 s; abandons by the rule in charge."""

    name = "dynamic"
    needs_progress = True
    low_s = 5.0
    high_s = 10.0

    def __init__(self, variants: Sequence[VariantInfo], segment_duration: float) -> None:
        super().__init__(variants, segment_duration, sabre_estimator())
        self.bola = BolaE(variants, segment_duration)
        self.tput = DashThroughput(variants, segment_duration)
        self.is_bola = False

    def on_event(self, event: Event) -> None:
        super().on_event(event)
        self.bola.on_event(event)
        self.tput.on_event(event)

    def note_segment_request(
        self, request_id: int, variant: int, expected_bytes: int | None = None
    ) -> None:
        super().note_segment_request(request_id, variant, expected_bytes)
        self.bola.note_segment_request(request_id, variant, expected_bytes)
        self.tput.note_segment_request(request_id, variant, expected_bytes)

    def choose(self, buffer_s: float, now: float) -> Decision:
        playing = self.segments_done > 0
        self.bola.flush_reports(buffer_s, now, playing)
        self.tput.flush_reports(buffer_s, now, playing)
        if self.current is None:
            return self.decide(0, "startup", buffer_s, now)
        if self.is_bola and buffer_s < self.low_s:
            self.is_bola = False
        elif not self.is_bola and buffer_s > self.high_s:
            self.is_bola = True
        rule: _SabreRule = self.bola if self.is_bola else self.tput
        reason = "buffer" if self.is_bola else "throughput"
        return self.decide(rule.pick(buffer_s, now), reason, buffer_s, now)

    def check_in_flight(self, buffer_s: float, now: float) -> Decision | None:
        rule: BolaE | DashThroughput = self.bola if self.is_bola else self.tput
        found = rule.abandon_target(buffer_s, now)
        if found is None:
            return None
        rid, to = found
        rule.report_abandon(to, buffer_s)
        for r in (self, self.bola, self.tput):
            r.fetches.pop(rid, None)
            r.estimator.forget(rid)
        return self.decide(to, "abandon", buffer_s, now, abandon_request=rid)
