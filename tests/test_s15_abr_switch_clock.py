"""While well buffered the switch interval counts media fetched, not wall seconds; a climb
right after a climb still waits the wall interval, and a buffer-based climb waits for where
the buffer is heading (abr.switch_clock; issue 20, BENCHMARKS.md session 15).

The interval is a QoE break-even (a move and back pays after 2.5 segments at the new rung): a
count of segments. While the buffer fills, segments land several times faster than they play,
and 5 wall seconds held the session on a rung the link had left. Pure and clock-free: every
time is an argument.
"""

from __future__ import annotations

from kithara_cli.abr import AbrConfig, AbrController, VariantInfo
from kithara_cli.abr.switch_clock import SwitchClock, climb_waits
from kithara_cli.events.types import RequestCompleted

LADDER = [
    VariantInfo(i, bw, "mp4a.40.2")
    for i, bw in enumerate((32_000, 64_000, 128_000, 192_000, 256_000))
]
TOP = 4


def segments(ctl: AbrController, variant: int, bps: float, count: int, t: float, rid: int) -> float:
    """``count`` segments of ``variant`` fetched back to back at ``bps`` from ``t``, registered
    as the player registers them; returns the time the last one landed."""
    size = LADDER[variant].bandwidth * 2 // 8
    for i in range(count):
        body = size * 8 / bps
        t += body + 0.05
        ctl.note_segment_request(rid + i, variant, size)
        ctl.on_event(
            RequestCompleted(
                request_id=rid + i,
                bytes=size,
                duration=body + 0.05,
                ttfb=0.05,
                bandwidth_bps=bps,
                ts=t,
            )
        )
    return t


def dropped_then_recovered(cfg: AbrConfig) -> tuple[AbrController, float, float]:
    """A session on the top rung whose link fell (a throughput switch down at a thin buffer),
    then came back: three segments land in well under a second. Returns the controller, the
    time of the switch down and the time the third segment landed."""
    ctl = AbrController(LADDER, config=cfg)
    assert ctl.choose(0.0, 0.0).to_variant == TOP
    t = segments(ctl, TOP, 2_000_000, 8, 0.0, rid=100)
    t = segments(ctl, TOP, 150_000, 4, t, rid=200)
    down = ctl.choose(4.0, t)  # below the emergency level: no interval to wait for
    assert down.switched and down.to_variant < TOP and down.reason == "throughput"
    landed = segments(ctl, down.to_variant, 3_000_000, 3, t, rid=300)
    assert landed - t < 1.0
    return ctl, t, landed


def test_well_buffered_the_interval_is_counted_in_media_fetched() -> None:
    """Three segments (6 s of media, past the 5 s break-even) fetched in under a second:
    well buffered, the controller climbs back at once. It used to hold the lower rung until
    5 wall seconds had passed, with the buffer filling and the link carrying the top rung."""
    cfg = AbrConfig()
    ctl, switched_at, landed = dropped_then_recovered(cfg)
    assert landed + 0.1 - switched_at < cfg.min_switch_interval_s
    up = ctl.choose(20.0, landed + 0.1)
    assert up.switched and up.to_variant > up.from_variant  # type: ignore[operator]


def test_below_well_buffered_the_interval_is_still_wall_seconds() -> None:
    """A thin buffer needs the time, not the count: the same segments at 10 s of buffer
    (up-switches allowed, not well buffered) leave the rung alone until 5 s have passed."""
    cfg = AbrConfig()
    ctl, switched_at, landed = dropped_then_recovered(cfg)
    buffer_s = (cfg.up_min_buffer_s + cfg.well_buffered_s) / 2
    held = ctl.choose(buffer_s, landed + 0.1)
    assert not held.switched
    later = ctl.choose(buffer_s, switched_at + cfg.min_switch_interval_s + 0.1)
    assert later.switched and later.to_variant > later.from_variant  # type: ignore[operator]


def test_a_climb_right_after_a_climb_waits_the_wall_interval() -> None:
    """A staircase 0 -> 2 -> 4 costs the QoE no more than 0 -> 4 but counts two switches:
    after a climb, the next climb needs the media count and the wall clock."""
    clock = SwitchClock(interval_s=5.0, segment_duration=2.0)
    assert clock.passed(0.0, 0, well_buffered=True, climb=True)  # no switch yet
    clock.start(10.0, segments_done=4, climbed=False)  # a switch down
    assert not clock.passed(11.0, 6, well_buffered=True, climb=True)  # 4 s of media
    assert clock.passed(11.0, 7, well_buffered=True, climb=True)  # 6 s of media, 1 s of wall
    assert not clock.passed(11.0, 7, well_buffered=False, climb=True)  # thin buffer: wall
    clock.start(12.0, segments_done=7, climbed=True)  # a climb
    assert clock.passed(13.0, 10, well_buffered=True, climb=False)  # a move down may come
    assert not clock.passed(13.0, 10, well_buffered=True, climb=True)  # a climb waits...
    assert clock.passed(17.0, 10, well_buffered=True, climb=True)  # ... the wall interval
    assert not clock.passed(17.0, 8, well_buffered=True, climb=True)  # and the media count


def test_a_buffer_climb_waits_while_the_buffer_heads_for_a_higher_pick() -> None:
    """BOLA's pick follows the buffer; if fetching the target rung for one interval grows the
    buffer to where BOLA names a higher rung, climbing now means climbing again: wait."""

    def pick(level: float) -> int:
        return min(int(level // 4), TOP)  # one rung per 4 s of buffer

    args = {"ttfb_s": 0.05, "segment_duration": 2.0, "interval_s": 5.0, "full_buffer_s": 28.0}
    # 8 s -> rung 2; at 1 Mbit/s a 128 kbit/s segment lands in 0.3 s: +4 s in one interval
    assert climb_waits(pick, 128_000, 2, 8.0, 1_000_000, **args)
    # at 150 kbit/s the same rung barely grows the buffer: climb now
    assert not climb_waits(pick, 128_000, 2, 8.0, 150_000, **args)
    # already at the top of the ladder's picks, nothing higher to wait for
    assert not climb_waits(pick, 256_000, TOP, 17.0, 1_000_000, **args)
    # a full buffer never waits: the player idles, bandwidth goes spare
    assert not climb_waits(pick, 128_000, 2, 28.0, 1_000_000, **args)
