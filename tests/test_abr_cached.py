"""Replays: the ABR is told which variants the persistent cache serves (a fact, no I/O).

Cache hits are no throughput samples, so a replay's estimate stays the start-up default
(500 kbit/s). Without the fact, that default starts below a cached top variant, and after a
seek (an empty buffer) it steps down to a variant the network must serve.
"""

from __future__ import annotations

from kithara_cli.abr import AbrController, VariantInfo
from kithara_cli.events.types import FirstByte, RequestCompleted

LADDER = [VariantInfo(i, bw, "mp4a.40.2") for i, bw in enumerate((64_000, 128_000, 512_000))]
TOP = 2


def served_from_cache(ctl: AbrController, rid: int, variant: int, now: float) -> None:
    ctl.note_segment_request(rid, variant, 128_000)
    ctl.on_event(
        FirstByte(request_id=rid, status=200, partial=False, ttfb=0.001, from_cache=True, ts=now)
    )
    ctl.on_event(
        RequestCompleted(
            request_id=rid,
            bytes=128_000,
            duration=0.002,
            ttfb=0.001,
            bandwidth_bps=5e8,
            from_cache=True,
            ts=now,
        )
    )


def test_startup_takes_the_highest_cached_variant_over_the_default_estimate() -> None:
    assert AbrController(LADDER).choose(0.0, now=0.0).to_variant == 1  # 0.7 x 500k: 128k
    d = AbrController(LADDER).choose(0.0, now=0.0, cached={TOP})
    assert (d.to_variant, d.reason) == (TOP, "startup")
    # A cached variant the estimate would pass anyway changes nothing; caps still bound it.
    assert AbrController(LADDER).choose(0.0, now=0.0, cached={0}).to_variant == 1
    capped = AbrController(LADDER, max_bitrate=200_000)
    assert capped.choose(0.0, now=0.0, cached={TOP}).to_variant == 1


def test_a_cached_variant_is_not_left_for_a_lower_one_after_a_seek() -> None:
    ctl = AbrController(LADDER)
    ctl.choose(0.0, now=0.0, cached={TOP})
    for i in range(4):
        served_from_cache(ctl, 10 + i, TOP, now=0.1 * i)
        assert ctl.choose(2.0 * (i + 1), now=0.1 * i, cached={TOP}).to_variant == TOP
    assert ctl.estimator.estimate_bps() == 500_000  # cache hits taught it nothing
    # A seek: the buffer is empty. The default estimate carries no 512k fetch in 0.5 s...
    plain = AbrController(LADDER)
    plain.choose(0.0, now=0.0, cached={TOP})
    served_from_cache(plain, 1, TOP, now=0.1)
    assert plain.choose(0.0, now=10.0).to_variant == 0
    # ...but the cache serves the segment at the target: stay.
    d = ctl.choose(0.0, now=10.0, cached={TOP})
    assert d.to_variant == TOP and not d.switched
    # Past what the cache holds the rules apply again.
    assert ctl.choose(0.0, now=10.5, cached=set()).to_variant == 0
