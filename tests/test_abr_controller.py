"""The controller: startup, hysteresis, modes, LoadSlow and abandon, events out.

Every time is passed in; nothing sleeps.
"""

from __future__ import annotations

import math

import pytest

from kithara_cli.abr import REASONS, AbrConfig, AbrController, Decision, VariantInfo
from kithara_cli.errors import UsageError
from kithara_cli.events.types import (
    AbrDecision,
    FirstByte,
    LoadSlow,
    RequestCancelled,
    RequestCompleted,
    RequestProgress,
)

LADDER = [
    VariantInfo(i, bw, "mp4a.40.2")
    for i, bw in enumerate((32_000, 64_000, 128_000, 192_000, 256_000))
]
TOP = 4


def feed(ctl: AbrController, bps: float, count: int, now: float, rid0: int = 1000) -> float:
    """Complete ``count`` 64 kB fetches at ``bps`` ending at ``now``, ``now`` + 1, ..."""
    for i in range(count):
        body = 64_000 * 8 / bps
        ctl.on_event(
            RequestCompleted(
                request_id=rid0 + i,
                bytes=64_000,
                duration=body + 0.05,
                ttfb=0.05,
                bandwidth_bps=bps,
                ts=now + i,
            )
        )
    return now + count


def played(ctl: AbrController, now: float, rid: int = 500) -> None:
    """One segment fetch completed: playback has started (abandon rules change then)."""
    ctl.note_segment_request(rid, TOP, 64_000)
    ctl.on_event(
        RequestCompleted(
            request_id=rid, bytes=64_000, duration=0.6, ttfb=0.05, bandwidth_bps=930_000, ts=now
        )
    )


def start_fetch(
    ctl: AbrController, rid: int, variant: int, t0: float, bps: float, until: float
) -> int:
    """A segment fetch of ``variant`` started at ``t0``, progressing at ``bps`` up to ``until``."""
    size = LADDER[variant].bandwidth * 2 // 8
    ctl.note_segment_request(rid, variant, size)
    ctl.on_event(
        FirstByte(request_id=rid, ttfb=0.05, status=200, partial=False, total=size, ts=t0 + 0.05)
    )
    t, done = t0 + 0.15, 0
    while t <= until + 1e-9:
        done = min(int((t - t0 - 0.05) * bps / 8), size)
        ctl.on_event(
            RequestProgress(request_id=rid, bytes_done=done, total=size, elapsed=t - t0, ts=t)
        )
        t += 0.1
    return done


def test_startup_picks_what_the_default_estimate_carries() -> None:
    ctl = AbrController(LADDER)
    d = ctl.choose(0.0, now=0.0)
    assert (d.to_variant, d.reason, d.from_variant) == (TOP, "startup", None)
    assert d.switched

    slow = AbrController(LADDER)
    slow.on_event(
        RequestCompleted(
            request_id=1, bytes=20_000, duration=2.05, ttfb=0.05, bandwidth_bps=80_000, ts=1.0
        )
    )
    # an untrusted 80 kbit/s sample lowers the default: 0.7 x 80k carries only the 32k rung
    assert slow.choose(0.0, now=2.0).to_variant == 0


def test_no_switch_up_below_the_buffer_threshold() -> None:
    cfg = AbrConfig()
    ctl = AbrController(LADDER, config=cfg)
    now = feed(ctl, 60_000, 3, now=0.0)
    assert ctl.choose(1.0, now).to_variant == 0
    now = feed(ctl, 3_000_000, 20, now=now + 10)  # the link is now plenty
    held = ctl.choose(cfg.up_min_buffer_s - 0.5, now)
    assert held.to_variant == 0 and not held.switched
    up = ctl.choose(cfg.up_min_buffer_s + 4, now + 1)
    assert up.to_variant > 0 and up.switched and up.reason in ("throughput", "buffer")


def test_no_switch_down_while_well_buffered() -> None:
    cfg = AbrConfig()
    ctl = AbrController(LADDER, config=cfg)
    assert ctl.choose(0.0, now=0.0).to_variant == TOP
    now = feed(ctl, 40_000, 10, now=1.0)  # the link collapses
    for buffer_s in (cfg.well_buffered_s, 20.0, 29.0):
        d = ctl.choose(buffer_s, now)
        assert d.to_variant == TOP and not d.switched
        now += 3
    down = ctl.choose(cfg.emergency_buffer_s - 1, now)
    assert down.to_variant < TOP and down.reason == "throughput"


def test_minimum_interval_between_switches_except_in_an_emergency() -> None:
    # the emergency zone below the throughput rule's (the default is all of it), so that a
    # throughput-rule down-switch at 5 s of buffer is one the interval holds
    cfg = AbrConfig(emergency_buffer_s=4.0)
    ctl = AbrController(LADDER, config=cfg)
    ctl.choose(0.0, now=0.0)
    now = feed(ctl, 100_000, 10, now=1.0)
    first = ctl.choose(5.0, now)  # throughput rule: 100 kbit/s carries 64k
    assert first.switched and first.to_variant == 1
    feed(ctl, 30_000, 10, now=now + 0.1, rid0=2000)
    blocked = ctl.choose(5.0, now + cfg.min_switch_interval_s / 2)
    assert not blocked.switched
    allowed = ctl.choose(5.0, now + cfg.min_switch_interval_s + 0.1)
    assert allowed.switched and allowed.to_variant == 0

    ctl2 = AbrController(LADDER, config=cfg)
    ctl2.choose(0.0, now=0.0)
    now = feed(ctl2, 100_000, 10, now=1.0)
    assert ctl2.choose(5.0, now).switched
    feed(ctl2, 30_000, 10, now=now + 0.1, rid0=2000)
    urgent = ctl2.choose(cfg.emergency_buffer_s - 1, now + 0.2)  # running dry: no waiting
    assert urgent.switched and urgent.to_variant == 0


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("fixed:2", 2), ("max_bitrate", TOP), ("min_bitrate", 0), ("MAX-BITRATE", TOP)],
)
def test_manual_modes(mode: str, expected: int) -> None:
    ctl = AbrController(LADDER, mode=mode)
    feed(ctl, 20_000, 5, now=0.0)
    for i, buffer_s in enumerate((0.0, 1.0, 29.0)):
        d = ctl.choose(buffer_s, now=10.0 + i)
        assert d.to_variant == expected and d.reason == "manual"
    assert ctl.check_in_flight(0.0, now=20.0) is None


def test_bitrate_caps_bound_auto_and_the_extreme_modes() -> None:
    capped = AbrController(LADDER, max_bitrate=150_000)
    assert capped.choose(0.0, 0.0).to_variant == 2
    feed(capped, 5_000_000, 20, now=1.0)
    assert capped.choose(29.0, 30.0).to_variant == 2
    assert (
        AbrController(LADDER, mode="max_bitrate", max_bitrate=200_000).choose(0, 0).to_variant == 3
    )
    assert (
        AbrController(LADDER, mode="min_bitrate", min_bitrate=60_000).choose(0, 0).to_variant == 1
    )


def test_bad_modes_are_usage_errors() -> None:
    with pytest.raises(UsageError):
        AbrController(LADDER, mode="fastest")
    with pytest.raises(UsageError):
        AbrController(LADDER, mode="fixed:9")
    with pytest.raises(UsageError):
        AbrController(LADDER, mode="fixed:high")
    with pytest.raises(UsageError):
        AbrController([])


def test_one_codec_family_unless_told_otherwise() -> None:
    mixed = [
        VariantInfo(0, 48_000, "mp4a.40.5"),
        VariantInfo(1, 128_000, "mp4a.40.2"),
        VariantInfo(2, 256_000, "mp4a.40.2"),
        VariantInfo(3, 640_000, "ec-3"),
    ]
    ctl = AbrController(mixed)
    assert [v.index for v in ctl.variants] == [0, 1, 2]  # AAC (LC and HE) only
    feed(ctl, 10_000_000, 20, now=0.0)
    assert ctl.choose(0.0, 30.0).to_variant == 2
    anything = AbrController(mixed, codec_family="any")
    assert [v.index for v in anything.variants] == [0, 1, 2, 3]


def test_load_slow_switches_down_for_the_next_segments() -> None:
    ctl = AbrController(LADDER)
    assert ctl.choose(0.0, now=0.0).to_variant == TOP
    played(ctl, now=0.0)
    done = start_fetch(ctl, 1, TOP, 0.0, bps=80_000, until=2.0)
    ctl.on_event(LoadSlow(request_id=1, elapsed=2.0, bytes_done=done, total=64_000, ts=2.0))
    # 8 s buffered: the rest (~4.6 s at 80 kbit/s) lands before it runs dry, so no abandon,
    # but the buffer will be low by then: switch down for what comes next
    d = ctl.check_in_flight(8.0, now=2.0)
    assert d is not None
    assert d.reason == "load_slow" and d.abandon_request is None
    assert d.to_variant < TOP and d.switched
    assert ctl.check_in_flight(8.0, now=2.1) is None  # one reaction per fetch
    assert ctl.current == d.to_variant


def test_load_slow_is_ignored_while_well_buffered() -> None:
    ctl = AbrController(LADDER)
    ctl.choose(0.0, now=0.0)
    played(ctl, now=0.0)
    done = start_fetch(ctl, 1, TOP, 0.0, bps=80_000, until=2.0)
    ctl.on_event(LoadSlow(request_id=1, elapsed=2.0, bytes_done=done, total=64_000, ts=2.0))
    assert ctl.check_in_flight(25.0, now=2.0) is None


def test_abandon_when_a_lower_whole_segment_lands_sooner() -> None:
    ctl = AbrController(LADDER)
    ctl.choose(0.0, now=0.0)
    played(ctl, now=0.6)
    start_fetch(ctl, 1, TOP, 1.0, bps=80_000, until=1.6)
    # ~58 kB left at 80 kbit/s is ~5.8 s, with 3 s buffered: dry. 64k's whole 16 kB segment
    # takes ~1.65 s and lands in time; 128k's 32 kB would not.
    d = ctl.check_in_flight(3.0, now=1.6)
    assert d is not None
    assert (d.reason, d.abandon_request, d.to_variant) == ("abandon", 1, 1)
    ctl.on_event(RequestCancelled(request_id=1, reason="abandon", ts=1.6))
    assert ctl.check_in_flight(2.9, now=1.7) is None  # nothing in flight any more


def test_no_abandon_when_the_rest_lands_sooner_than_any_lower_segment() -> None:
    ctl = AbrController(LADDER)
    ctl.choose(0.0, now=0.0)
    played(ctl, now=0.6)
    ctl.note_segment_request(1, TOP, 64_000)
    ctl.on_event(
        FirstByte(request_id=1, ttfb=0.05, status=200, partial=False, total=64_000, ts=1.05)
    )
    # 62 kB of 64 kB after 6 s: 2 kB left at ~83 kbit/s is 0.2 s; the buffer has 0.1 s.
    # Dry, but even the lowest whole segment (8 kB, ~0.8 s) would land later: keep it.
    for k in range(1, 61):
        ctl.on_event(
            RequestProgress(
                request_id=1,
                bytes_done=int(62_000 * k / 60),
                total=64_000,
                elapsed=0.05 + 0.1 * k,
                ts=1.05 + 0.1 * k,
            )
        )
    d = ctl.check_in_flight(0.1, now=7.05)
    assert d is None or d.abandon_request is None


def test_no_abandon_during_a_stall() -> None:
    ctl = AbrController(LADDER)
    ctl.choose(0.0, now=0.0)
    played(ctl, now=0.6)
    start_fetch(ctl, 1, TOP, 1.0, bps=400_000, until=1.5)
    # then nothing for 3 s: an outage; no rung arrives sooner through it
    assert ctl.check_in_flight(2.0, now=4.5) is None


def test_decisions_become_abr_decision_events() -> None:
    ctl = AbrController(LADDER)
    d = ctl.choose(0.0, now=12.5)
    ev = ctl.to_event(d, None, 0.0)
    assert isinstance(ev, AbrDecision)
    assert (ev.from_variant, ev.to_variant, ev.reason, ev.buffer, ev.ts) == (
        None,
        TOP,
        "startup",
        0.0,
        12.5,
    )
    assert ev.estimate_bps == pytest.approx(ctl.config.estimator.default_bps)
    assert ev.reason in REASONS
    manual = AbrController(LADDER, mode="fixed:1").choose(3.0, now=1.0)
    assert ctl.to_event(manual).reason == "manual"
    assert ctl.to_event(manual).from_variant is None


def test_controller_is_pure() -> None:
    """Same events and times in, same decisions out: no hidden clock."""

    def run() -> list[Decision]:
        ctl = AbrController(LADDER)
        out = [ctl.choose(0.0, 0.0)]
        now = feed(ctl, 150_000, 5, now=1.0)
        out.append(ctl.choose(10.0, now))
        start_fetch(ctl, 1, out[-1].to_variant, now, bps=50_000, until=now + 2.5)
        reaction = ctl.check_in_flight(4.0, now + 2.5)
        if reaction is not None:
            out.append(reaction)
        return out

    assert run() == run()


def test_mode_can_change_while_playing() -> None:
    ctl = AbrController(LADDER)
    assert ctl.choose(0.0, 0.0).to_variant == TOP
    ctl.set_mode("fixed:1")
    d = ctl.choose(20.0, 1.0)
    assert (d.to_variant, d.reason, d.switched) == (1, "manual", True)
    ctl.set_mode("auto")
    assert ctl.choose(20.0, 2.0).reason in ("throughput", "buffer")
    with pytest.raises(UsageError):
        ctl.set_mode("fixed:7")


def test_startup_abandon_when_the_first_fetch_cannot_carry_its_rung() -> None:
    ctl = AbrController(LADDER)
    assert ctl.choose(0.0, 0.0).to_variant == TOP
    start_fetch(ctl, 1, TOP, 0.0, bps=70_000, until=0.6)
    d = ctl.check_in_flight(0.0, now=0.6)
    assert d is not None and d.reason == "abandon" and d.abandon_request == 1
    assert LADDER[d.to_variant].bandwidth <= 70_000  # a rung the measured rate carries


def test_a_variant_whose_segment_failed_sits_out_then_comes_back() -> None:
    """After a failure the variant is left out for ``failed_exclusion_s`` (nearest lower
    first, else higher), in every auto decision; manual modes still use it; it returns after."""
    cfg = AbrConfig()
    ctl = AbrController(LADDER, config=cfg)
    now = feed(ctl, 3_000_000, 20, now=0.0)
    assert ctl.choose(20.0, now).to_variant == TOP
    assert ctl.exclude(TOP, now) and not ctl.exclude(TOP, now + 1)  # the second: already out
    out = ctl.choose(20.0, now + 1)
    assert (out.to_variant, out.reason, out.switched) == (TOP - 1, "failed", True)
    assert ctl.excluded(now + 1) == [TOP]
    for t in range(2, int(cfg.failed_exclusion_s)):
        assert ctl.choose(20.0, now + t).to_variant == TOP - 1
    ctl.exclude(TOP - 1, now + 2)
    assert ctl.choose(20.0, now + 3).to_variant == TOP - 2
    for v in range(TOP - 1):
        ctl.exclude(v, now + 3)
    assert ctl.choose(20.0, now + 4).to_variant == TOP - 2  # all out: carry on, failover covers
    ctl.set_mode("max_bitrate")
    assert ctl.choose(20.0, now + 5).to_variant == TOP
    ctl.set_mode("auto")
    back = now + 1 + cfg.failed_exclusion_s + cfg.min_switch_interval_s
    feed(ctl, 3_000_000, 20, now=back - 20, rid0=3000)
    assert ctl.excluded(back + 5) == []
    assert ctl.choose(20.0, back + 5).to_variant == TOP


def test_after_the_link_improves_the_climb_is_one_switch_not_one_per_rung() -> None:
    """The estimate (min of fast and slow) rises slowly by design; judged by it, a link that
    went from 20 to 400 kbit/s would be climbed one rung per segment, a switch each. Below
    ``well_buffered_s`` an up-switch is judged by the fast average: the rung it heads for, in
    one switch. Well buffered, the buffer drives the ups and the fast average is not used
    (it would chase each high phase of an oscillating link)."""
    cfg = AbrConfig()
    picks = {}
    for buffer_s in (cfg.up_min_buffer_s + 1, cfg.well_buffered_s + 1):
        ctl = AbrController(LADDER, config=cfg)
        ctl.choose(0.0, now=0.0)
        now = feed(ctl, 20_000, 10, now=1.0)
        assert ctl.choose(2.0, now).to_variant == 0
        for rid in range(3000, 3003):  # segments, as the player registers them: well buffered
            ctl.note_segment_request(rid, 0, 64_000)  # the interval counts media fetched
        now = feed(ctl, 400_000, 3, now=now + 1, rid0=3000)
        slow_pick = max(
            (
                v.index
                for v in LADDER
                if v.bandwidth <= ctl.estimator.estimate_bps() * cfg.up_safety
            ),
            default=0,
        )
        up = ctl.choose(buffer_s, now + 10)
        picks[buffer_s] = up.to_variant
        assert up.switched and up.reason == "throughput"
        assert up.to_variant >= slow_pick
    assert picks[cfg.up_min_buffer_s + 1] == 3  # 0 -> 3 at once: 0.7 x the fast average
    assert picks[cfg.well_buffered_s + 1] == 2  # the slow estimate's pick


def test_a_buffer_idling_at_the_cap_counts_as_full_whatever_its_rounding() -> None:
    """The player asks for the next segment when the buffer is down to the cap less one
    segment; float arithmetic lands that a hair under ``full_buffer_s`` as often as on it.
    A full buffer pays any excursion (bandwidth goes spare), so the controller goes up
    whether the subtraction gave 28.0 or 27.999999999999996."""
    for buffer_s in (28.0, math.nextafter(28.0, 0.0)):
        ctl = AbrController(LADDER)
        ctl.choose(0.0, now=0.0)
        now = feed(ctl, 30_000, 40, now=1.0)  # a slow minute: the long and low rates remember it
        now = feed(ctl, 200_000, 25, now=now, rid0=2000)  # then a link under the top rung
        played(ctl, now)
        ctl._current = 2  # held the middle rung while the buffer filled
        d = ctl.choose(buffer_s, now=now + 1)
        assert (d.to_variant, d.reason) == (TOP, "buffer"), buffer_s


def test_below_well_buffered_an_up_switch_may_use_three_quarters_of_the_estimate() -> None:
    """The estimate is already the lower of a fast and a slow average: 0.75 of it (not
    hls.js's 0.7 of a plain average) carries an up-switch while the throughput rule decides.
    Well buffered it is only BOLA's floor and keeps 0.7 (the synthetic oscillating profile's
    switch target holds that side)."""
    cfg = AbrConfig()
    ctl = AbrController(LADDER, config=cfg)
    ctl.choose(0.0, now=0.0)
    played(ctl, 0.5)
    now = feed(ctl, 262_000, 60, now=1.0)
    est = ctl.estimator.estimate_bps()
    assert est * cfg.well_buffered_up_safety < 192_000 <= est * cfg.up_safety  # the gap tested
    assert ctl.estimator.fast_bps() * cfg.up_safety < 256_000
    ctl._current = 2
    d = ctl.choose(cfg.well_buffered_s - 2, now=now + 1)
    assert (d.to_variant, d.reason) == (3, "throughput")
