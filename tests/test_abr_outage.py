"""The outage memory, the drift step and the variant exclusions: pure pieces of the controller.

Numbers are worked by hand in the comments; the simulator tests at the end play a broadband
trace shaped like sabre's ``hd_fs`` (a slow minute, two fast ones, the slow minute again).
"""

from __future__ import annotations

import pytest

from kithara_cli.abr import AbrConfig, AbrController, VariantInfo
from kithara_cli.abr.drift import DriftGuard
from kithara_cli.abr.exclusion import Exclusions
from kithara_cli.abr.outage import OutageMemory, SlowFetch, outage_abandon, stall_within
from kithara_cli.abr.profiles import AUDIO_LADDER, Trace, TracePeriod
from kithara_cli.abr.qoe import compute_metrics
from kithara_cli.abr.sim import SimConfig, SimResult, simulate

LADDER = [VariantInfo(i, bw, "mp4a.40.2") for i, bw in enumerate(AUDIO_LADDER)]
BWS = list(AUDIO_LADDER)  # 32, 64, 128, 192, 256 kbit/s
SEG = 2.0


def test_episodes_are_runs_of_consecutive_fetches_at_or_below_the_rate() -> None:
    memory = OutageMemory()
    for start, bps in [(0, 15e3), (4, 16e3), (8, 14e3), (12, 250e3), (13, 20e3), (17, 300e3)]:
        memory.record(start, start + 4 if bps < 1e5 else start + 1, bps)
    assert memory.episodes(17e3) == [12.0]  # 0..12; the 20k fetch is above the limit
    assert memory.episodes(21e3) == [12.0, 4.0]
    assert memory.episodes(10e3) == []
    assert memory.episodes(1e6) == [18.0]  # everything, 0..18


def test_memory_keeps_only_its_capacity_and_zero_is_off() -> None:
    memory = OutageMemory(capacity=2)
    for i in range(5):
        memory.record(i * 4.0, i * 4.0 + 4.0, 10e3)
    assert memory.episodes(20e3) == [8.0]  # the newest two fetches
    off = OutageMemory(capacity=0)
    off.record(0.0, 60.0, 10e3)
    assert off.episodes(20e3) == []


def test_stall_within_a_horizon() -> None:
    # 10 s buffered, a fetch of 16 s: 6 s of stall, then 2 s buffered; bottom fetches of 4 s
    # each stall 2 s: 16 s + 4 s + 4 s pass a 24 s horizon with 6 + 2 + 2 s of stall
    assert stall_within(10.0, 16.0, SEG, 4.0, 24.0) == pytest.approx(10.0)
    assert stall_within(30.0, 4.0, SEG, 4.0, 20.0) == 0.0
    assert stall_within(5.0, 3.0, SEG, 1.0, 0.0) == 0.0  # nothing within no time


def slow(position: int, rate: float, remaining_s: float, buffer_s: float) -> SlowFetch:
    return SlowFetch(position, rate, remaining_s, buffer_s)


def test_a_remembered_long_outage_abandons_a_top_rung_fetch_for_the_bottom() -> None:
    # 16 kbit/s, half the bottom rung: a 256k segment's rest (16 s) against 18 s buffered
    # lands, but a remembered 60 s at that rate then drains what is left: keeping it stalls
    # 20 s of the minute, the bottom rung at once (4 s a segment, 2 s of media) 14 s
    assert stall_within(18.0, 16.0, SEG, 4.0, 60.0) == pytest.approx(20.0)
    assert stall_within(18.0, 4.0, SEG, 4.0, 60.0) == pytest.approx(14.0)
    fetch = slow(4, 16e3, 16.0, 18.0)
    assert outage_abandon(BWS, SEG, 0.0, fetch, [60.0], wait_s=1.0) == 0


def test_no_memory_or_only_short_dips_keep_the_fetch() -> None:
    fetch = slow(4, 16e3, 16.0, 18.0)
    assert outage_abandon(BWS, SEG, 0.0, fetch, [], wait_s=1.0) is None
    # dips of 3 s: the rest lands with buffer to spare, nothing stalls either way
    assert outage_abandon(BWS, SEG, 0.0, fetch, [3.0, 3.0, 2.0], wait_s=1.0) is None
    assert outage_abandon(BWS, SEG, 0.0, slow(0, 16e3, 3.0, 5.0), [60.0], wait_s=1.0) is None


def test_it_waits_while_a_later_abandon_still_stalls_nowhere_then_acts() -> None:
    # 28 s buffered, 30 s left of the fetch, a remembered 30 s: keeping it stalls 2 s; 192k's
    # whole segment (24 s) now or a second later lands in time: wait for evidence ...
    assert outage_abandon(BWS, SEG, 0.0, slow(4, 16e3, 30.0, 28.0), [30.0], 1.0) is None
    # ... until a second later would stall: 1.5 s on, it goes
    assert outage_abandon(BWS, SEG, 0.0, slow(4, 16e3, 28.5, 26.5), [30.0], 1.0) == 3
    # 10 s buffered, a remembered 25 s: the bottom rung now, whatever waiting would bring
    assert outage_abandon(BWS, SEG, 0.0, slow(4, 16e3, 30.0, 10.0), [25.0], 1.0) == 0


def test_the_quality_cost_is_weighed_against_the_stall_saved() -> None:
    # 60 kbit/s carries 32k only: a 192k fetch with 8.5 s left and 9 s buffered; 10 s ago the
    # link spent 6 s this low. Keeping it: ~0.6 s of stall; 64k now: none, but a switch down
    # and back costs 2 x ln(3) > ln(8) x 0.6: keep it
    assert outage_abandon(BWS, SEG, 0.0, slow(3, 60e3, 8.5, 9.0), [6.0], 1.0) is None


def hd_fs(slow_bps: float = 16e3, fast_bps: float = 250e3) -> Trace:
    """sabre's hd_fs shape: a slow minute, then two fast minutes; the simulator loops it."""
    return Trace(
        "hd_fs-like",
        (TracePeriod(60.0, slow_bps, 0.02), TracePeriod(120.0, fast_bps, 0.02)),
    )


def play(config: AbrConfig) -> SimResult:
    ctl = AbrController(LADDER, segment_duration=SEG, config=config)
    return simulate(hd_fs(), LADDER, ctl, SimConfig(segment_duration=SEG, seed=1))


def test_the_memory_of_the_slow_minute_saves_stall_when_it_comes_back() -> None:
    with_memory, without = play(AbrConfig()), play(AbrConfig(outage_memory=0))
    early = [d for d in with_memory.decisions if d.reason == "abandon" and d.at and d.at > 170]
    assert early and early[0].buffer_s >= AbrConfig().well_buffered_s  # acted well buffered
    assert with_memory.rebuffer_s < without.rebuffer_s - 3.0  # 27.3 s against 30.9 s
    bws = (min(AUDIO_LADDER), max(AUDIO_LADDER))
    assert compute_metrics(with_memory, *bws).qoe > compute_metrics(without, *bws).qoe


def test_drift_steps_down_once_after_a_window_of_falling_buffer() -> None:
    guard = DriftGuard(window_s=60.0, fall_s=4.0)
    # the rung must exceed the long average by 1 / (1 - 4 / 60): 256k over 239k
    assert guard.drain_factor == pytest.approx(60.0 / 56.0)
    for t in range(0, 62, 2):
        guard.observe(28.0 - t / 10.0, float(t))  # 28 s falling to 22 s over a minute
    args = (4, 256e3, 230e3, 22.0, 60.0)
    assert guard.should_step_down(*args, last_switch_at=30.0) is False  # not held a window
    assert guard.should_step_down(4, 256e3, 245e3, 22.0, 60.0, None) is False  # carried
    assert guard.should_step_down(*args, last_switch_at=None) is True
    # the climb back to the rung left waits a window, then needs the estimate to carry it
    assert guard.blocks_climb(4, 90.0, carried=True) is True
    assert guard.blocks_climb(4, 121.0, carried=False) is True
    assert guard.blocks_climb(4, 121.0, carried=True) is False
    assert guard.blocks_climb(3, 61.0, carried=False) is False


def test_drift_needs_a_buffer_still_falling() -> None:
    guard = DriftGuard(window_s=60.0, fall_s=4.0)
    for t in range(0, 62, 2):
        guard.observe(28.0 - t / 10.0, float(t))
    guard.observe(23.0, 62.0)  # rose since the last decision
    assert guard.should_step_down(4, 256e3, 230e3, 23.0, 62.0, None) is False


def test_exclusions_sit_out_and_fall_back_below_then_above() -> None:
    out = Exclusions(30.0)
    assert not out
    ladder = [10, 11, 12]
    assert out.exclude(11, now=0.0) is True
    assert out.exclude(11, now=1.0) is False  # already out (and extended to 31 s)
    assert out.excluded(5.0) == [11]
    assert out.usable(ladder, 1, 11, now=5.0) == 10  # the nearest below
    out.exclude(10, now=5.0)
    assert out.usable(ladder, 1, 11, now=6.0) == 12  # none below: above
    assert out.usable(ladder, 1, 11, now=40.0) == 11  # back after 30 s
    out.exclude(12, now=6.0)
    assert out.usable(ladder, 1, 11, now=7.0) == 11  # every one out: itself
