"""The minimum interval between switches runs from a change of the rung that plays.

An abandon before any segment has played changes nothing the listener hears: the session
starts on the lower rung. Timing the interval from it held a 3G session on the bottom rung for
16 segments while the buffer filled (issue 20, BENCHMARKS.md session 14). Pure and clock-free:
every time is an argument.
"""

from __future__ import annotations

from kithara_cli.abr import AbrConfig, AbrController, VariantInfo
from kithara_cli.abr.decision import starts_switch_clock
from kithara_cli.events.types import FirstByte, RequestCompleted, RequestProgress

LADDER = [
    VariantInfo(i, bw, "mp4a.40.2")
    for i, bw in enumerate((32_000, 64_000, 128_000, 192_000, 256_000))
]
TOP = 4


def slow_fetch(
    ctl: AbrController, rid: int, variant: int, t0: float, bps: float, until: float
) -> None:
    """A fetch of ``variant`` started at ``t0``, its body flowing at ``bps`` up to ``until``."""
    size = LADDER[variant].bandwidth * 2 // 8
    ctl.note_segment_request(rid, variant, size)
    ctl.on_event(
        FirstByte(request_id=rid, ttfb=0.05, status=200, partial=False, total=size, ts=t0 + 0.05)
    )
    t = t0 + 0.15
    while t <= until + 1e-9:
        done = min(int((t - t0 - 0.05) * bps / 8), size)
        ctl.on_event(
            RequestProgress(request_id=rid, bytes_done=done, total=size, elapsed=t - t0, ts=t)
        )
        t += 0.1


def segments(
    ctl: AbrController, variant: int, bps: float, count: int, t0: float, rid0: int
) -> float:
    """``count`` segment fetches of ``variant`` completed back to back at ``bps``; the end time."""
    size = LADDER[variant].bandwidth * 2 // 8
    t = t0
    for i in range(count):
        body = size * 8 / bps
        t += body + 0.05
        ctl.note_segment_request(rid0 + i, variant, size)
        ctl.on_event(
            RequestCompleted(
                request_id=rid0 + i,
                bytes=size,
                duration=body + 0.05,
                ttfb=0.05,
                bandwidth_bps=bps,
                ts=t,
            )
        )
    return t


def test_only_a_change_of_the_rung_that_plays_starts_the_interval() -> None:
    assert not starts_switch_clock(None, TOP, "startup", 0)  # the first choice
    assert not starts_switch_clock(2, 2, "throughput", 5)  # no change
    assert not starts_switch_clock(TOP, 0, "abandon", 0)  # the abandoned segment never plays
    assert starts_switch_clock(TOP, 0, "abandon", 1)  # TOP played, then the lower rung
    assert starts_switch_clock(0, 3, "throughput", 0)
    assert starts_switch_clock(3, 1, "load_slow", 4)


def test_after_a_startup_abandon_the_player_climbs_once_the_buffer_allows() -> None:
    cfg = AbrConfig()
    ctl = AbrController(LADDER, config=cfg)
    assert ctl.choose(0.0, 0.0).to_variant == TOP
    # the link starts slow: the first fetch (the top rung) is abandoned before anything played
    slow_fetch(ctl, 1, TOP, 0.0, bps=70_000, until=0.6)
    abandon = ctl.check_in_flight(0.0, now=0.6)
    assert abandon is not None and abandon.reason == "abandon"
    low = abandon.to_variant
    assert low < TOP
    assert ctl.state(0.0, 0.6).last_switch_at is None  # no played rung has changed
    # then it carries 1.2 Mbit/s: small segments land fast and the buffer fills
    now = segments(ctl, low, 1_200_000, 12, t0=0.6, rid0=10)
    buffer_s = cfg.up_min_buffer_s + 2.0  # past the up guard, below well buffered
    assert now - 0.6 < cfg.min_switch_interval_s  # within the interval counted from the abandon
    up = ctl.choose(buffer_s, now)
    # before: held on the bottom rung until 5 s after the abandon, the buffer filling with it
    assert up.switched and up.to_variant > low and up.reason == "throughput"


def test_an_abandon_after_playback_started_still_starts_the_interval() -> None:
    cfg = AbrConfig()
    ctl = AbrController(LADDER, config=cfg)
    assert ctl.choose(0.0, 0.0).to_variant == TOP
    now = segments(ctl, TOP, 1_200_000, 3, t0=0.0, rid0=10)  # TOP played
    slow_fetch(ctl, 1, TOP, now, bps=20_000, until=now + 0.6)
    abandon = ctl.check_in_flight(1.0, now=now + 0.6)
    assert abandon is not None and abandon.reason == "abandon" and abandon.to_variant < TOP
    assert ctl.state(1.0, now + 0.6).last_switch_at == now + 0.6  # TOP -> lower is heard
    later = segments(ctl, abandon.to_variant, 1_200_000, 4, t0=now + 0.6, rid0=20)
    assert later - (now + 0.6) < cfg.min_switch_interval_s
    held = ctl.choose(cfg.up_min_buffer_s + 2.0, later)
    assert held.to_variant == abandon.to_variant and not held.switched
