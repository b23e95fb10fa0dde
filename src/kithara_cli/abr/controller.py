"""kithara's ABR controller: which variant the next segment comes from, and when to give up.

A pure function of (state, measurements, time). The player calls :meth:`AbrController.choose`
before each segment fetch and :meth:`AbrController.check_in_flight` every ~100 ms while one is
under way; it feeds the downloader's events to :meth:`AbrController.on_event`. Nothing here
sleeps, reads a clock or does I/O; every time is an argument (``now``) or an event's ``ts``.

The auto rule, in short (seconds are seconds of media buffered ahead):

* startup: the highest rung 0.7 x the (conservative, untrusted) estimate carries;
* buffer below ``throughput_below_s``: the throughput rule (hls.js-like: 0.9 x the estimate to
  stay or go down, 0.75 x to go up, 0.7 x well buffered; the fetch must land before the buffer
  runs dry, and while the buffer is thin only rungs that refill it briskly);
* above it: BOLA on the buffer level with a hysteresis band, never below what the throughput
  rule picks. BOLA spends a healthy buffer on quality instead of chasing every dip of the
  estimate; it goes up past what the long average throughput sustains only when the buffer
  pays for a worthwhile excursion (or is full: the player idles, bandwidth goes spare), and
  does not go down from a rung the long average sustains;
* going up below ``well_buffered_s``, the throughput rule judges by the fast average when it
  is above the estimate: after the link improves it names the rung in one switch where the
  slowly rising estimate would climb one rung per segment; BOLA goes up on buffer grounds only
  to rungs both the long average and the current estimate sustain (or as a paid excursion);
* a slow drift down while well buffered (the rung held a minute, the buffer two segments
  lower, the long average short of it): one rung down, and no quick climb back (abr.drift);
* hysteresis: no switch up below ``up_min_buffer_s``, no switch down at or above
  ``well_buffered_s`` but that step, at least ``min_switch_interval_s`` between switches (5 s,
  2.5 segments: a switch costs one segment's quality step), counted in media fetched while
  well buffered, where a buffer-based climb also waits for where the buffer is heading
  (abr.switch_clock); a down-switch below ``emergency_buffer_s`` and an abandon ignore it (a
  rebuffer costs more); an abandon before anything played starts none (abr.decision);
* a slow fetch (LoadSlow, or projected by its own rate to finish after the buffer runs dry):
  abandon it when a lower variant's whole segment would land sooner, else decide again for the
  next segments with the fetch's rate as the estimate (one rung down at a time);
* a fetch whose rung the link no longer carries, at any buffer level: if this session has seen
  the link stay that low before, abandon it when, over those episodes, a lower rung scores
  better by the QoE and waiting a rate window would cost stall (abr.outage).

Thresholds tuned on :mod:`kithara_cli.abr.report`'s benchmark (:class:`AbrConfig`); since issue
20 only on the dev half of the shipped traces, the validation half reports (BENCHMARKS.md).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace

from kithara_cli.abr.bola import _Bola
from kithara_cli.abr.decision import (
    AbrConfig,
    AbrState,
    Decision,
    VariantInfo,
    _SegmentFetch,
    abandon_target,
    auto_ladder,
    decision_event,
    manual_target,
    parse_mode,
    starts_switch_clock,
)
from kithara_cli.abr.drift import ROUND_TRIP_SEGMENTS, DriftGuard
from kithara_cli.abr.estimator import BandwidthEstimator, InFlight
from kithara_cli.abr.exclusion import Exclusions
from kithara_cli.abr.outage import OutageMemory, SlowFetch, outage_abandon
from kithara_cli.abr.rerate import rerated
from kithara_cli.abr.switch_clock import SwitchClock, climb_waits
from kithara_cli.errors import UsageError
from kithara_cli.events.types import (
    AbrDecision,
    Event,
    FirstByte,
    LoadSlow,
    RequestCancelled,
    RequestCompleted,
    RequestFailed,
    RequestRetrying,
    RetryExhausted,
)

__all__ = ["AbrController", "Decision", "VariantInfo"]  # the rest: abr.decision

# A player idling at its cap asks for more at the cap less one segment: often a hair under it.
FULL_TOLERANCE_S = 1e-6


class AbrController:
    """Chooses variants for one HLS stream. Not thread-safe: call it from one thread."""

    name = "kithara"
    needs_progress = True

    def __init__(
        self,
        variants: Sequence[VariantInfo],
        *,
        mode: str = "auto",
        max_bitrate: int | None = None,
        min_bitrate: int | None = None,
        segment_duration: float = 2.0,
        config: AbrConfig | None = None,
        codec_family: str | None = None,
    ) -> None:
        """``codec_family``: None keeps to the ladder's main family, ``"any"`` mixes them."""
        if not variants:
            raise UsageError("ABR needs at least one variant")
        self.config = config or AbrConfig()
        self.segment_duration = segment_duration
        self.mode, self._fixed = parse_mode(mode)
        self._by_index = {v.index: v for v in variants}
        if self._fixed is not None and self._fixed not in self._by_index:
            raise UsageError(
                f"ABR mode {mode!r}: no variant {self._fixed} (have {sorted(self._by_index)})"
            )
        self._allowed = self._filter(variants, max_bitrate, min_bitrate, codec_family)
        self.rerate({})  # the ladder's positions and BOLA
        est_cfg = self.config.estimator
        if est_cfg.min_weight_s is None:
            # each segment fetched weighs at least its media duration in the averages
            est_cfg = replace(est_cfg, min_weight_s=segment_duration)
        self.estimator = BandwidthEstimator(est_cfg)
        fall_s = ROUND_TRIP_SEGMENTS * segment_duration
        self._drift = DriftGuard(est_cfg.long_half_life_s, fall_s)  # see abr.drift
        self._current: int | None = None
        self._clock = SwitchClock(self.config.min_switch_interval_s, segment_duration)
        self._fetches: dict[int, _SegmentFetch] = {}
        self._segments_done = 0
        self._exclusions = Exclusions(self.config.failed_exclusion_s)
        self._outages = OutageMemory(self.config.outage_memory)  # see abr.outage

    # --- ladder ------------------------------------------------------------------------------
    _filter = staticmethod(auto_ladder)

    def rerate(self, rates: Mapping[int, int]) -> None:
        """Variants' rates as measured (index -> bit/s); the ladder keeps its order (abr.rerate)."""
        self._by_index, self._allowed = rerated(self._by_index, self._allowed, rates)
        self._bandwidths = [v.bandwidth for v in self._allowed]
        self._pos = {v.index: i for i, v in enumerate(self._allowed)}
        self._bola = _Bola(self._bandwidths, self.config.bola_low_s, self.config.bola_high_s)

    def set_mode(self, mode: str) -> None:
        """Change mode while playing (a key press); takes effect at the next choose()."""
        kind, fixed = parse_mode(mode)
        if fixed is not None and fixed not in self._by_index:
            raise UsageError(
                f"ABR mode {mode!r}: no variant {fixed} (have {sorted(self._by_index)})"
            )
        self.mode, self._fixed = kind, fixed

    @property
    def variants(self) -> list[VariantInfo]:
        """The variants auto mode chooses among, lowest bandwidth first."""
        return list(self._allowed)

    @property
    def current(self) -> int | None:
        return self._current

    def _position(self, index: int) -> int:
        """Ladder position of a variant, for one outside the allowed set the nearest below it."""
        if index in self._pos:
            return self._pos[index]
        bw = self._by_index[index].bandwidth
        below = [i for i, b in enumerate(self._bandwidths) if b <= bw]
        return below[-1] if below else 0

    # --- events ------------------------------------------------------------------------------

    def note_segment_request(
        self, request_id: int, variant: int, expected_bytes: int | None = None
    ) -> None:
        """Tell the controller that ``request_id`` fetches a media segment of ``variant``."""
        self._fetches[request_id] = _SegmentFetch(request_id, variant, expected_bytes)

    def on_event(self, event: Event) -> None:
        """Feed the downloader's events; anything else is ignored."""
        est = self.estimator
        if isinstance(event, FirstByte | RequestCompleted) and event.from_cache:
            # Served by the persistent cache: it says nothing about the network.
            est.forget(event.request_id)
            if isinstance(event, RequestCompleted) and (
                self._fetches.pop(event.request_id, None) is not None
            ):
                self._segments_done += 1
            return
        if est.observe(event):
            if (
                isinstance(event, RequestCompleted)
                and self._fetches.pop(event.request_id, None) is not None
            ):
                self._segments_done += 1
                if event.bytes >= est.config.min_sample_bytes:  # a segment, big enough to time
                    body = max(event.duration - max(event.ttfb, 0.0), est.config.min_transfer_s)
                    self._outages.record(event.ts - body, event.ts, event.bytes * 8.0 / body)
        elif isinstance(event, LoadSlow):
            # a mark, not a progress point: it is published on a timer, not because bytes came
            fetch = self._fetches.get(event.request_id)
            if fetch is not None:
                fetch.slow = True
        elif isinstance(event, RequestRetrying):
            est.forget(event.request_id)  # the body starts again: old progress means nothing
        elif isinstance(event, RequestCancelled | RetryExhausted) or (
            isinstance(event, RequestFailed) and not event.retryable
        ):
            est.forget(event.request_id)
            self._fetches.pop(event.request_id, None)

    # --- decisions ---------------------------------------------------------------------------

    def state(self, buffer_s: float, now: float) -> AbrState:
        oldest, est = next(iter(self._fetches), None), self.estimator
        return AbrState(
            self._current, buffer_s, now, self._clock.at, est.estimate_bps(), est.trusted(), oldest
        )

    def _interval_ok(self, now: float, buffer_s: float, climb: bool = False) -> bool:
        well = buffer_s >= self.config.well_buffered_s  # media counts there (abr.switch_clock)
        return self._clock.passed(now, self._segments_done, well, climb)

    def exclude(self, variant: int, now: float) -> bool:
        """A segment of ``variant`` failed after its retries: auto mode leaves the variant out
        for ``failed_exclusion_s``. False when it was already out."""
        return self._exclusions.exclude(variant, now)

    def excluded(self, now: float) -> list[int]:
        """The variants sitting out at ``now``."""
        return self._exclusions.excluded(now)

    def _commit(
        self,
        target: int,
        reason: str,
        buffer_s: float,
        now: float,
        abandon_request: int | None = None,
    ) -> Decision:
        if self.mode == "auto" and self._exclusions:
            ladder = [v.index for v in self._allowed]
            usable = self._exclusions.usable(ladder, self._position(target), target, now)
            if usable != target:
                target, reason = usable, "failed"
        prev = self._current
        if starts_switch_clock(prev, target, reason, self._segments_done):
            up = prev is not None and self._position(target) > self._position(prev)
            self._clock.start(now, self._segments_done, up)
        self._current = target
        return Decision(
            to_variant=target,
            reason=reason,
            from_variant=prev,
            estimate_bps=self.estimator.estimate_bps(),
            buffer_s=buffer_s,
            at=now,
            abandon_request=abandon_request,
        )

    def _throughput_pick(self, est: float, buffer_s: float, prev_pos: int | None) -> int:
        """hls.js's rule: the highest rung the estimate carries that lands before the buffer
        runs dry (a bigger margin to go up than to stay)."""
        cfg = self.config
        ttfb = self.estimator.ttfb_estimate()
        measured = self.estimator.measured_bps()
        playing = self._segments_done > 0
        well = buffer_s >= cfg.well_buffered_s
        up_factor = cfg.well_buffered_up_safety if well else cfg.up_safety
        for pos in range(len(self._allowed) - 1, 0, -1):
            up = prev_pos is not None and pos > prev_pos
            factor = cfg.startup_safety if prev_pos is None else up_factor if up else cfg.safety
            bw = self._bandwidths[pos]
            if bw > (self._up_estimate(est, buffer_s) if up else est) * factor:
                continue
            if playing:
                # Timed at the measured rate (the estimate, maybe the untrusted default, chose
                # the rung). An empty buffer cannot be protected (the fetch stalls whatever its
                # rung): the fetch may take empty_buffer_fetch_s, never less at a thin buffer.
                fetch_s = ttfb + bw * self.segment_duration / max(measured, 1.0)
                if fetch_s > max(buffer_s, cfg.empty_buffer_fetch_s):
                    continue
                # while the buffer is thin, only rungs that grow it briskly: a fetch may take
                # fill_share of a segment's duration at an empty buffer, all of it at
                # throughput_below_s
                if buffer_s < cfg.throughput_below_s and prev_pos is not None:
                    share = cfg.fill_share + (1 - cfg.fill_share) * (
                        buffer_s / cfg.throughput_below_s
                    )
                    fill_s = ttfb + bw * self.segment_duration / max(measured, 1.0)
                    if fill_s > share * self.segment_duration:
                        continue
            return pos
        return 0

    def _up_estimate(self, est: float, buffer_s: float) -> float:
        """The rate an up-switch is judged by: below ``well_buffered_s`` and once trusted, the
        fast average when it is above ``est`` (the min of fast and slow, which rises slowly by
        design). After the link improves, the slow average would walk the choice up one rung
        per segment, a switch each; the fast one names the rung it is heading for, reached in
        one switch. Well buffered, the buffer (BOLA) drives the ups: the fast average would
        chase every high phase of an oscillating link. The up margin and the buffer guard
        (``up_min_buffer_s``) still apply."""
        if not self.estimator.trusted() or buffer_s >= self.config.well_buffered_s:
            return est
        return max(est, self.estimator.fast_bps())

    def _auto_target(
        self, est: float, buffer_s: float, now: float, guard_buffer_s: float | None = None
    ) -> tuple[int, str]:
        """Ladder position and reason for the next segment, hysteresis applied.

        ``buffer_s`` drives the rules; ``guard_buffer_s`` (default the same) is the buffer the
        hysteresis guards look at: check_in_flight decides on the buffer projected for when the
        fetch lands but must not switch down while the buffer is, right now, well filled.
        """
        cfg = self.config
        guard = buffer_s if guard_buffer_s is None else guard_buffer_s
        assert self._current is not None
        prev_pos = self._position(self._current)
        tp = self._throughput_pick(est, buffer_s, prev_pos)
        target, reason = tp, "throughput"
        if buffer_s >= cfg.throughput_below_s:
            # BOLA with a band: up once it would pick higher with bola_band_s less buffer, down
            # once it would pick lower even with bola_band_s more; in between, hold.
            up = self._bola.pick(buffer_s - cfg.bola_band_s)
            down = self._bola.pick(buffer_s + cfg.bola_band_s)
            while up > prev_pos and not self._excursion_ok(up, buffer_s, now):
                up -= 1
            if down < prev_pos and self._sustainable(prev_pos):
                down = prev_pos  # the buffer dipped but the long average carries this rung
            # above the throughput zone there is time to step down one rung at a time
            down = max(down, prev_pos - cfg.bola_down_step)
            bb = up if up > prev_pos else down if down < prev_pos else prev_pos
            if bb > tp:
                target, reason = bb, "buffer"
            else:
                target = tp
        if target > prev_pos:
            if guard < cfg.up_min_buffer_s or not self._interval_ok(now, guard, climb=True):
                target = prev_pos
        elif target < prev_pos and (
            guard >= cfg.well_buffered_s
            or (not self._interval_ok(now, guard) and guard >= cfg.emergency_buffer_s)
        ):
            target = prev_pos
        if (
            guard_buffer_s is None
            and target == prev_pos
            and cfg.well_buffered_s <= buffer_s < cfg.full_buffer_s - FULL_TOLERANCE_S
            and self._interval_ok(now, guard)
            and self._drift.should_step_down(
                prev_pos, self._bandwidths[prev_pos], self.estimator.long_bps(), buffer_s, now,
                self._clock.at,
            )
        ):  # fmt: skip
            return prev_pos - 1, "buffer"  # a slow drift down (abr.drift)
        if reason == "buffer" and target > prev_pos and guard_buffer_s is None:
            target = prev_pos if self._climb_waits(target, est, buffer_s) else target
        return target, reason

    def _climb_waits(self, target: int, est: float, buffer_s: float) -> bool:
        """Would BOLA climb again by the next interval (abr.switch_clock)? At the rate the
        estimate heads for: the fast average, once trusted."""
        cfg, e = self.config, self.estimator
        rate = max(est, e.fast_bps()) if e.trusted() else est
        return climb_waits(
            lambda b: self._bola.pick(b - cfg.bola_band_s), self._bandwidths[target], target,
            buffer_s, rate, e.ttfb_estimate(), self.segment_duration,
            cfg.min_switch_interval_s, cfg.full_buffer_s - FULL_TOLERANCE_S,
        )  # fmt: skip

    def _sustainable(self, pos: int) -> bool:
        return self._bandwidths[pos] <= self.estimator.long_bps() * self.config.sustain_factor

    def _excursion_ok(self, pos: int, buffer_s: float, now: float) -> bool:
        """Is going up to ``pos`` on buffer grounds worth its two switches?

        Always with a full buffer (the player idles: bandwidth goes spare). Yes if the rung
        fits the long average throughput; otherwise only if the buffer above the level where
        we would come back down lasts ``min_excursion_segments`` segments at the drain that
        rung causes. A switch up and back costs 2 |ln(b_hi / b_lo)|, a segment at the higher
        rung gains |ln(b_hi / b_lo)|: short excursions lose quality.
        """
        cfg = self.config
        carried = self._bandwidths[pos] <= self.estimator.estimate_bps()
        if not self._sustainable(pos) and self._drift.blocks_climb(pos, now, carried):
            return False  # back to the rung a drift step left: see abr.drift
        if buffer_s >= cfg.full_buffer_s - FULL_TOLERANCE_S:
            return True
        long_bps = max(self.estimator.long_bps(), 1.0)
        bw = self._bandwidths[pos]
        # sustainable on average, and not in a dip right now: the long average lags a
        # collapse by a minute, going up into one only to abandon the next fetch costs two
        if bw <= min(long_bps, self.estimator.estimate_bps()) * cfg.sustain_factor:
            return True
        # how fast the buffer would drain there, judged by a pessimistic recent rate: the
        # long average hides the slow stretches that end an excursion early
        low_bps = max(min(self.estimator.low_bps(), long_bps), 1.0)
        drain = self.segment_duration * (bw / low_bps - 1.0)
        down_at = min(self._bola.threshold(pos) - cfg.bola_band_s, cfg.well_buffered_s)
        return (buffer_s - down_at) >= drain * cfg.min_excursion_segments

    def choose(self, buffer_s: float, now: float, cached: Collection[int] = ()) -> Decision:
        """The variant of the next segment; commits it. ``cached``: the variants the persistent
        cache serves that segment of (a fact, see the package docstring on replays)."""
        self._drift.observe(buffer_s, now)
        if self.mode != "auto":
            return self._commit(
                manual_target(self.mode, self._fixed, self._allowed), "manual", buffer_s, now
            )
        est = self.estimator.estimate_bps()
        if self._current is None:
            held = [self._pos[v] for v in cached if v in self._pos]
            pos = max([self._throughput_pick(est, buffer_s, None), *held])
            return self._commit(self._allowed[pos].index, "startup", buffer_s, now)
        target, reason = self._auto_target(est, buffer_s, now)
        if self._current in cached and target < self._position(self._current):
            target = self._position(self._current)
        if target == self._position(self._current) and self._current in self._pos:
            return self._commit(self._current, reason, buffer_s, now)
        return self._commit(self._allowed[target].index, reason, buffer_s, now)

    def check_in_flight(self, buffer_s: float, now: float) -> Decision | None:
        """React to the oldest segment fetch under way being slow; None when nothing to do.

        "Slow" is LoadSlow (the soft timeout passed) or a projected finish after the buffer
        runs dry, projected from the fetch's own rate (before playback starts: a rate that
        does not carry the fetch's variant). The reaction is to abandon it when a lower
        variant's whole segment would land sooner (reason ``abandon``; not while well
        buffered, but free of the switch interval), otherwise to decide again for the next
        segments with the fetch's own rate as the estimate (``load_slow``, hysteresis kept).
        """
        if self.mode != "auto" or not self._fetches or self._current is None:
            return None
        cfg = self.config
        fetch = next(iter(self._fetches.values()))
        rate = self.estimator.in_flight_rate_bps(
            fetch.request_id, now, cfg.abandon_min_body_s, cfg.rate_window_s
        )
        info = self.estimator.in_flight(fetch.request_id)
        if rate is None or info is None:
            return None
        whole = self._by_index[fetch.variant].bandwidth * self.segment_duration / 8
        expected = info.total or fetch.expected_bytes or whole
        remaining_bits = max(expected - info.bytes_done, 0) * 8.0
        remaining_s = remaining_bits / rate if rate > 0 else math.inf
        fetch_pos = self._position(fetch.variant)
        uncarried = self._bandwidths[fetch_pos] > rate * cfg.safety  # the link's rate now
        started = self._segments_done > 0
        dry = remaining_s > buffer_s - cfg.dry_margin_s if started else uncarried
        may_abandon = self._segments_done == 0 or buffer_s < cfg.well_buffered_s
        if dry and may_abandon and fetch_pos > 0 and rate > 0:
            ttfb = self.estimator.ttfb_estimate()
            args = (ttfb, started, fetch_pos, rate, remaining_s, buffer_s)
            target = abandon_target(self._bandwidths, self.segment_duration, cfg, *args)
            if target is not None:
                return self._abandon(fetch, info, target, buffer_s, now)
        if started and rate > 0 and uncarried:
            # a rung the link does not carry: has the link stayed this low before? (abr.outage)
            slow = SlowFetch(fetch_pos, rate, remaining_s, buffer_s)
            episodes = self._outages.episodes(rate / cfg.safety)
            ttfb, seg = self.estimator.ttfb_estimate(), self.segment_duration
            target = outage_abandon(self._bandwidths, seg, ttfb, slow, episodes, cfg.rate_window_s)
            if target is not None:
                return self._abandon(fetch, info, target, buffer_s, now)
        if not (dry or fetch.slow):
            return None
        if fetch.reacted or buffer_s >= cfg.well_buffered_s or rate <= 0:
            # a stalled body says nothing about the link that comes back: the next choose()
            # decides with the buffer that is left then
            return None
        # decide again as if this fetch had landed when its own rate says it will; only when
        # that leaves the buffer low: above, the next choose() has time to act on its own
        landing = max(buffer_s - remaining_s, 0.0) + self.segment_duration
        if landing >= cfg.throughput_below_s:
            return None
        est = min(self.estimator.estimate_bps(), rate)
        target, _ = self._auto_target(est, landing, now, guard_buffer_s=buffer_s)
        cur_pos = self._position(self._current)
        if target >= cur_pos:
            return None
        target = max(target, cur_pos - cfg.load_slow_step)
        fetch.reacted = True
        return self._commit(self._allowed[target].index, "load_slow", buffer_s, now)

    def _abandon(
        self, fetch: _SegmentFetch, info: InFlight, target: int, buffer_s: float, now: float
    ) -> Decision:
        # what the abandoned fetch did measure is still a sample (hls.js does the same)
        elapsed = now - (info.started_at if info.started_at is not None else now)
        self.estimator.add_sample(info.bytes_done, elapsed, info.ttfb or 0.0, now)
        self.estimator.forget(fetch.request_id)
        del self._fetches[fetch.request_id]
        index = self._allowed[target].index
        return self._commit(index, "abandon", buffer_s, now, abandon_request=fetch.request_id)

    # --- events out --------------------------------------------------------------------------

    def to_event(
        self, decision: Decision, from_variant: int | None = None, buffer_s: float | None = None
    ) -> AbrDecision:
        """The AbrDecision event for a decision (stamped with the decision's own time)."""
        return decision_event(decision, from_variant, buffer_s)
