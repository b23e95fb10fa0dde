"""The bandwidth estimator: TTFB out, tiny samples out, trust after ~64 KB, min of two EWMAs."""

from __future__ import annotations

import pytest

from kithara_cli.abr.estimator import BandwidthEstimator, EstimatorConfig, Ewma


def test_ttfb_is_taken_out_of_the_sample() -> None:
    est = BandwidthEstimator()
    # 80 kB in 1.1 s of which 0.1 s waiting for the first byte: the body ran at 640 kbit/s
    assert est.add_sample(80_000, 1.1, 0.1, now=1.0)
    assert est.trusted()
    assert est.estimate_bps() == pytest.approx(640_000, rel=1e-6)


def test_samples_too_small_to_mean_anything_are_dropped() -> None:
    est = BandwidthEstimator()
    assert not est.add_sample(1_500, 0.01, 0.005, now=1.0)
    assert est.sample_count == 0
    assert est.bytes_sampled == 0
    assert est.estimate_bps() == est.config.default_bps


def test_default_until_64_kb_and_untrusted_samples_only_lower_it() -> None:
    est = BandwidthEstimator(EstimatorConfig(default_bps=500_000))
    assert est.estimate_bps() == 500_000
    est.add_sample(32_000, 0.1, 0.0, now=1.0)  # 2.56 Mbit/s, but only 32 kB seen
    assert not est.trusted()
    assert est.estimate_bps() == 500_000  # a fast small sample cannot raise the default
    est.add_sample(32_000, 0.1, 0.0, now=2.0)
    assert est.trusted()  # 64 kB: one 2 s segment at 256 kbit/s, not shaka's 128 kB
    assert est.estimate_bps() == pytest.approx(2_560_000, rel=1e-6)

    slow = BandwidthEstimator(EstimatorConfig(default_bps=500_000))
    slow.add_sample(16_000, 1.0, 0.0, now=1.0)  # 128 kbit/s
    assert not slow.trusted()
    assert slow.estimate_bps() == pytest.approx(128_000, rel=1e-6)  # ... but may lower it


def test_dual_ewma_takes_the_more_conservative_average() -> None:
    est = BandwidthEstimator()
    for i in range(20):
        est.add_sample(100_000, 0.8, 0.0, now=float(i))  # 1 Mbit/s
    est.add_sample(100_000, 4.0, 0.0, now=21.0)  # one slow fetch: 200 kbit/s
    assert est.fast_bps() < est.slow_bps()
    assert est.estimate_bps() == pytest.approx(est.fast_bps())

    up = BandwidthEstimator()
    for i in range(10):
        up.add_sample(100_000, 4.0, 0.0, now=float(i))  # 200 kbit/s
    up.add_sample(100_000, 0.4, 0.0, now=11.0)  # one fast fetch: 2 Mbit/s
    assert up.slow_bps() < up.fast_bps()
    assert up.estimate_bps() == pytest.approx(up.slow_bps())  # rises slowly


def test_reacts_to_a_drop_within_three_segments() -> None:
    est = BandwidthEstimator()
    for i in range(30):
        est.add_sample(64_000, 0.512, 0.0, now=float(i))  # 1 Mbit/s
    assert est.estimate_bps() == pytest.approx(1_000_000, rel=0.01)
    for i in range(3):
        est.add_sample(64_000, 2.56, 0.0, now=40.0 + i)  # 200 kbit/s
    assert est.estimate_bps() < 400_000


def test_one_stalled_fetch_weighs_at_most_max_weight() -> None:
    capped = BandwidthEstimator(EstimatorConfig(max_weight_s=4.0))
    uncapped = BandwidthEstimator(EstimatorConfig(max_weight_s=1e9))
    for est in (capped, uncapped):
        for i in range(10):
            est.add_sample(64_000, 0.512, 0.0, now=float(i))
        est.add_sample(64_000, 30.0, 0.0, now=40.0)  # fetched across a 30 s outage
        for i in range(3):
            est.add_sample(64_000, 0.512, 0.0, now=41.0 + i)
    assert capped.slow_bps() > 2 * uncapped.slow_bps()


def test_ewma_zero_bias_correction() -> None:
    e = Ewma(2.0)
    assert e.estimate() == 0.0
    e.sample(0.5, 100.0)
    assert e.estimate() == pytest.approx(100.0)  # not pulled towards the initial 0


def test_in_flight_rate_uses_now_and_sees_stalls() -> None:
    est = BandwidthEstimator()
    est.note_first_byte(7, ttfb=0.1, total=64_000, now=10.1)
    assert est.in_flight_rate_bps(7, now=10.2, min_body_s=0.4) is None  # too early to judge
    for k in range(1, 11):  # 10 kB per 100 ms: 800 kbit/s
        est.add_progress(7, 10_000 * k, elapsed=0.1 + 0.1 * k, now=10.1 + 0.1 * k)
    assert est.in_flight_rate_bps(7, now=11.1) == pytest.approx(800_000, rel=0.02)
    # no progress for a second: a stalled body, not 800 kbit/s
    assert est.in_flight_rate_bps(7, now=12.1) == 0.0
    # bytes flow again at 160 kbit/s: judged from the resumption, not across the gap
    for k in range(1, 6):
        est.add_progress(7, 100_000 + 2_000 * k, elapsed=3.0 + 0.1 * k, now=13.0 + 0.1 * k)
    rate = est.in_flight_rate_bps(7, now=13.5, min_body_s=0.4)
    assert rate == pytest.approx(160_000, rel=0.05)
    assert est.forget(7) is not None
    assert est.in_flight_rate_bps(7, now=14.0) is None


def test_low_quantile_of_recent_samples() -> None:
    est = BandwidthEstimator(EstimatorConfig(recent_quantile=0.2))
    for i in range(8):
        est.add_sample(64_000, 0.512, 0.0, now=float(i))  # 1 Mbit/s, 0.5 s each
    est.add_sample(64_000, 2.56, 0.0, now=9.0)  # 200 kbit/s for 2.6 s: > 20 % of the time
    assert est.low_bps() == pytest.approx(200_000, rel=0.01)


def test_a_body_that_starts_after_a_stall_is_judged_from_when_it_starts() -> None:
    est = BandwidthEstimator()
    est.note_first_byte(3, ttfb=0.05, total=128_000, now=100.05)  # headers, then an outage
    assert est.in_flight_rate_bps(3, now=105.0) == 0.0
    for k in range(1, 6):  # the link is back at 500 kbit/s
        est.add_progress(3, 6_250 * k, elapsed=10.0 + 0.1 * k, now=110.0 + 0.1 * k)
    rate = est.in_flight_rate_bps(3, now=110.5, min_body_s=0.4)
    assert rate == pytest.approx(500_000, rel=0.05)
