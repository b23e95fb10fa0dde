"""The throughput rule's fetch budget never shrinks as the buffer grows (issue 20).

The rule keeps a rung only if its fetch lands before the buffer runs dry. An empty buffer
(after a seek, or rebuffering) cannot be protected, so a fetch there may take
``empty_buffer_fetch_s`` (0.5 s); but a thin positive buffer (0.2 s: a live stream played at
its edge, where the playlist lists the next segment just as the last one runs out) used to
give the fetch only the buffer itself, 0.2 s: a fetch the controller kept at 0 s of buffer
stepped the session down at 0.2 s, on a fast link. And before the estimate is trusted the
fetch is timed at the rate measured, not the 500 kbit/s default (which still bounds the
rungs): by the default a live stream's first small segments stepped down on a loopback link.
Pure and clock-free: every time is an argument.
"""

from __future__ import annotations

from kithara_cli.abr import AbrConfig, AbrController, VariantInfo
from kithara_cli.events.types import FirstByte, RequestCompleted

LADDER = [
    VariantInfo(i, bw, "mp4a.40.2")
    for i, bw in enumerate((32_000, 64_000, 128_000, 192_000, 256_000))
]
TOP = 4
LINK_BPS = 2_000_000  # the top rung's 2 s segment: 0.256 s of body, 0.306 s with its TTFB
TTFB = 0.05


def playing_on_top() -> tuple[AbrController, float]:
    """A session on the top rung that has fetched eight segments at LINK_BPS (the estimate
    trusted); returns the controller and the time the last one landed."""
    ctl = AbrController(LADDER, segment_duration=2.0)
    assert ctl.choose(0.0, 0.0).to_variant == TOP
    size = LADDER[TOP].bandwidth * 2 // 8
    t = 0.0
    for rid in range(8):
        body = size * 8 / LINK_BPS
        ctl.note_segment_request(rid, TOP, size)
        ctl.on_event(
            FirstByte(request_id=rid, ttfb=TTFB, status=200, partial=False, total=size, ts=t)
        )
        t += TTFB + body
        ctl.on_event(
            RequestCompleted(
                request_id=rid,
                bytes=size,
                duration=TTFB + body,
                ttfb=TTFB,
                bandwidth_bps=LINK_BPS,
                ts=t,
            )
        )
    assert ctl.estimator.trusted()
    return ctl, t


def fetch_time() -> float:
    ctl, _ = playing_on_top()
    est = ctl.estimator
    return est.ttfb_estimate() + LADDER[TOP].bandwidth * 2.0 / est.estimate_bps()


def test_the_scenario_is_a_fetch_between_a_thin_buffer_and_the_empty_budget() -> None:
    """The premise: the top rung's fetch takes longer than 0.2 s, less than 0.5 s."""
    assert 0.2 < fetch_time() < AbrConfig().empty_buffer_fetch_s


def test_a_thin_buffer_keeps_the_rung_an_empty_one_keeps() -> None:
    """At 0 s of buffer the top rung is kept (its fetch fits the empty buffer's 0.5 s); at
    0.2 s it used to be dropped two rungs for a 0.2 s budget."""
    ctl, t = playing_on_top()
    empty = ctl.choose(0.0, t + 1.0)
    assert empty.to_variant == TOP and not empty.switched
    ctl, t = playing_on_top()
    thin = ctl.choose(0.2, t + 1.0)
    assert thin.to_variant == TOP and not thin.switched, thin


def test_the_pick_never_falls_as_the_buffer_grows() -> None:
    """Over the throughput rule's zone, more buffer never picks a lower rung."""
    picks = []
    for tenth in range(0, 60):
        ctl, t = playing_on_top()
        picks.append(ctl.choose(tenth / 10, t + 1.0).to_variant)
    assert picks == sorted(picks), picks
    assert picks[0] == TOP


def test_a_fetch_longer_than_the_empty_budget_still_steps_down() -> None:
    """The floor is the empty buffer's budget, not more: on a link where the top rung's
    fetch takes ~1 s, a thin buffer still steps down (the rule still protects a buffer)."""
    ctl = AbrController(LADDER, segment_duration=2.0)
    assert ctl.choose(0.0, 0.0).to_variant == TOP
    size = LADDER[TOP].bandwidth * 2 // 8
    t = 0.0
    for rid in range(8):
        body = size * 8 / 520_000  # carries the top rung by the 0.9 margin, ~1 s a fetch
        ctl.note_segment_request(rid, TOP, size)
        t += TTFB + body
        ctl.on_event(
            RequestCompleted(
                request_id=rid,
                bytes=size,
                duration=TTFB + body,
                ttfb=TTFB,
                bandwidth_bps=520_000,
                ts=t,
            )
        )
    down = ctl.choose(0.2, t + 1.0)
    assert down.switched and down.to_variant < TOP and down.reason == "throughput"


def test_an_untrusted_estimate_times_the_fetch_at_the_rate_measured() -> None:
    """A live stream's first segment (47 kB, under the 64 kB of trust) came at 200 Mbit/s:
    the estimate is still the 500 kbit/s default, by which the 195 kbit/s rung's 2 s segment
    takes 0.8 s, more than any thin buffer's budget; the step down it caused at 0.2 s of
    buffer on a loopback link is gone (the default still bounds which rungs are candidates)."""
    ladder = [VariantInfo(0, 131_777, "mp4a.40.2"), VariantInfo(1, 195_068, "mp4a.40.2")]
    for buffer_s in (0.0, 0.2, 0.5):
        ctl = AbrController(ladder, segment_duration=2.02)
        assert ctl.choose(0.0, 0.0).to_variant == 1
        ctl.note_segment_request(1, 1, None)
        ctl.on_event(
            FirstByte(request_id=1, ttfb=0.006, status=200, partial=False, total=47_376, ts=0.5)
        )
        ctl.on_event(
            RequestCompleted(
                request_id=1, bytes=47_376, duration=0.008, ttfb=0.006, bandwidth_bps=2e8, ts=0.502
            )
        )
        assert not ctl.estimator.trusted() and ctl.estimator.estimate_bps() == 500_000
        kept = ctl.choose(buffer_s, 2.3)
        assert kept.to_variant == 1 and not kept.switched, (buffer_s, kept)
