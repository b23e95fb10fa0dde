"""The simulator: exact network playback, buffer and rebuffer accounting, determinism, QoE."""

from __future__ import annotations

import math

import pytest

from kithara_cli.abr import AbrController, VariantInfo
from kithara_cli.abr.algorithms import ALGORITHMS
from kithara_cli.abr.baselines import FixedBaseline
from kithara_cli.abr.profiles import (
    AUDIO_LADDER,
    SYNTHETIC_PROFILES,
    Trace,
    TracePeriod,
    load_trace,
    scale_for_audio,
)
from kithara_cli.abr.qoe import compute_metrics, qoe_total, switch_count
from kithara_cli.abr.sim import Network, SimConfig, segment_sizes, simulate

LADDER = [VariantInfo(i, bw, "mp4a.40.2") for i, bw in enumerate(AUDIO_LADDER)]


def flat(bps: float, seconds: float = 60.0, latency: float = 0.0) -> Trace:
    return Trace("flat", (TracePeriod(seconds, bps, latency),))


def test_network_integrates_across_periods_outages_and_loops() -> None:
    net = Network(
        Trace(
            "t",
            (
                TracePeriod(1.0, 8000.0, 0.05),
                TracePeriod(2.0, 0.0, 0.5),
                TracePeriod(1.0, 16000.0, 0.1),
            ),
        )
    )
    assert net.bits_until(0.5) == pytest.approx(4000)
    assert net.bits_until(2.5) == pytest.approx(8000)  # nothing flows in the outage
    assert net.time_when(8000) == pytest.approx(1.0)
    assert net.time_when(12000) == pytest.approx(3.25)  # waits out the outage
    assert net.latency_at(1.5) == 0.5
    # looped: the second pass starts at 4 s with another 24 kbit
    assert net.bits_until(4.5) == pytest.approx(24000 + 4000)
    assert net.time_when(24000 + 12000) == pytest.approx(4.0 + 3.25)


def test_segment_sizes_are_seeded_and_near_nominal() -> None:
    a = segment_sizes(LADDER, 50, 2.0, 0.1, seed=1)
    assert a == segment_sizes(LADDER, 50, 2.0, 0.1, seed=1)
    assert a != segment_sizes(LADDER, 50, 2.0, 0.1, seed=2)
    for v in LADDER:
        nominal = v.bandwidth * 2.0 / 8
        assert all(0.9 * nominal <= s <= 1.1 * nominal for s in a[v.index])


def test_startup_and_no_rebuffer_when_the_link_carries_the_rung() -> None:
    res = simulate(
        flat(1_000_000, latency=0.1),
        LADDER,
        FixedBaseline(LADDER, 2.0, highest=True),
        SimConfig(size_noise=0.0),
    )
    assert res.startup_delay_s == pytest.approx(0.1 + 64_000 * 8 / 1_000_000)
    assert (res.rebuffer_count, res.rebuffer_s, res.wasted_bytes) == (0, 0.0, 0)
    assert len(res.variants) == 30 and set(res.variants) == {4}


def test_rebuffers_are_counted_and_timed() -> None:
    # 256 kbit/s segments over 128 kbit/s: each 2 s segment takes 4 s, so after startup every
    # segment stalls playback for 2 s
    res = simulate(
        flat(128_000, seconds=20.0),
        LADDER,
        FixedBaseline(LADDER, 2.0, highest=True),
        SimConfig(size_noise=0.0),
    )
    assert res.startup_delay_s == pytest.approx(4.0)
    assert res.rebuffer_count == 9
    assert res.rebuffer_s == pytest.approx(18.0)


def test_the_player_stops_fetching_at_max_buffer() -> None:
    res = simulate(
        flat(10_000_000, seconds=120.0),
        LADDER,
        FixedBaseline(LADDER, 2.0, highest=False),
        SimConfig(max_buffer_s=10.0),
    )
    # 60 segments of 8 kB at 10 Mbit/s would take < 1 s without the cap
    assert res.download_end_s > 120.0 - 10.0 - 1.0


def test_abandoned_bytes_count_as_waste() -> None:
    # the first top segment crawls at 80 kbit/s: kithara abandons it for a lower rung
    trace = Trace(
        "crawl", (TracePeriod(30.0, 80_000.0, 0.05), TracePeriod(30.0, 1_000_000.0, 0.05))
    )
    res = simulate(trace, LADDER, AbrController(LADDER), SimConfig())
    assert res.abandons >= 1
    assert 0 < res.wasted_bytes < 64_000 * res.abandons * 1.1
    assert any(d.reason == "abandon" for d in res.decisions)


@pytest.mark.parametrize("name", sorted(ALGORITHMS))
def test_same_seed_same_result(name: str) -> None:
    trace = SYNTHETIC_PROFILES["random_walk"](7)
    a = simulate(trace, LADDER, ALGORITHMS[name](LADDER, 2.0), SimConfig(seed=7))
    b = simulate(
        SYNTHETIC_PROFILES["random_walk"](7),
        LADDER,
        ALGORITHMS[name](LADDER, 2.0),
        SimConfig(seed=7),
    )
    assert compute_metrics(a, 32_000, 256_000) == compute_metrics(b, 32_000, 256_000)
    assert a.variants == b.variants


def test_profiles_are_seeded() -> None:
    for make in SYNTHETIC_PROFILES.values():
        assert make(1) == make(1)
        assert make(1) != make(2)
        assert 290 <= make(1).duration_s <= 310


def test_qoe_formula() -> None:
    # q = ln(R/Rmin); smoothness = |ln ratio| per switch; a rebuffer second costs ln(Rmax/Rmin)
    bitrates = [32_000, 64_000, 64_000, 256_000]
    expected = (0 + math.log(2) * 2 + math.log(8)) - (math.log(2) + math.log(4)) - math.log(8) * 1.5
    assert qoe_total(bitrates, 1.5, 32_000, 256_000) == pytest.approx(expected)
    assert switch_count([1, 1, 2, 2, 1]) == 2


def test_trace_loading_scales_for_an_audio_ladder(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "t.json"
    path.write_text(
        '[{"duration_ms": 1000, "bandwidth_kbps": 24000, "latency_ms": 20},'
        ' {"duration_ms": 0, "bandwidth_kbps": 1, "latency_ms": 20},'
        ' {"duration_ms": 3000, "bandwidth_kbps": 30000, "latency_ms": 20}]'
    )
    trace = load_trace(path)
    assert trace.kind == "trace" and len(trace.periods) == 2
    # the time-weighted median (30 Mbit/s: 3 of 4 seconds) maps to 1.75 x the middle rung
    divisor = 30_000_000 / (1.75 * 128_000)
    assert trace.periods[0] == TracePeriod(1.0, 24_000_000 / divisor, 0.02)
    assert trace.periods[1].bps == pytest.approx(224_000)
    assert scale_for_audio(30_000) == pytest.approx(divisor)


def test_default_traces_dir_honours_the_environment(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from kithara_cli.abr.profiles import default_traces_dir

    monkeypatch.setenv("KITHARA_TRACES_DIR", str(tmp_path))
    assert default_traces_dir() == tmp_path
    monkeypatch.setenv("KITHARA_TRACES_DIR", str(tmp_path / "missing"))
    assert default_traces_dir() is None
