"""Audio rungs a video master gives no rate for are judged by the bytes playback fetched.

Apple's bipbop layout: every video variant (2-8 Mbit/s) listed once per audio group ("aud1",
"aud2"), no audio-only variant, no rate in a group's name: ``hls.audio_rates`` prices neither
group, so each audio rung kept its video variant's BANDWIDTH (2.2 and 2.3 Mbit/s) and on a
1 Mbit/s link the ABR never left the lowest. Now each segment of such a rung that lands prices
its group (bytes x 8 / EXTINF, averaged), the other group follows through the difference the
master states between the variants that differ only in audio (66 kbit/s), and the controller
judges the rungs at those rates (``AbrController.rerate``, the ladder's order kept).
"""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

import hls_fixtures
from hls_fixtures import play, static
from kithara_cli.abr.controller import AbrController, VariantInfo
from kithara_cli.abr.rerate import rerated
from kithara_cli.events.types import LadderInfo
from kithara_cli.hls.loader import playback_ladder
from kithara_cli.hls.model import MasterPlaylist, Segment
from kithara_cli.hls.playlist import parse_playlist
from kithara_cli.hls.rerate import MeasuredRates
from kithara_cli.server import Faults, MediaServer
from kithara_cli.ui.dashboard import render_dashboard
from kithara_cli.ui.dashboard_state import DashboardState
from test_s15_hls_audio_rates import MEDIA, VIDEO, apple_master

hls_media = hls_fixtures.hls_media
hls_server = hls_fixtures.hls_server

BIPBOP = ("aud1", "aud2")  # no rate anywhere in the master


def _master(text: str) -> MasterPlaylist:
    parsed = parse_playlist(text, "https://cdn.example/show/master.m3u8")
    assert isinstance(parsed, MasterPlaylist)
    return parsed


def _segment(sequence: int, duration: float = 2.0) -> Segment:
    return Segment(f"s{sequence}.ts", duration, sequence, None, None, None, False, 0)


def _rates(text: str) -> tuple[MeasuredRates, list[int]]:
    master = _master(text)
    rungs = playback_ladder(master, None)
    rates = MeasuredRates.for_ladder(master, rungs)
    assert rates is not None
    return rates, [r.index for r in rungs]


def test_a_fetched_group_is_priced_and_the_other_follows_by_difference() -> None:
    rates, (low, high) = _rates(apple_master(BIPBOP))
    assert rates.landed(low, _segment(0), 18_000) == {low: 72_000, high: 138_000}
    # a second segment moves the average less than 5 %: the ladder stays as it is
    assert rates.landed(low, _segment(1), 18_500) == {}
    # the same segment fetched again counts once
    assert rates.landed(low, _segment(1), 18_500) == {}
    info = rates.ladder_info()
    assert info.variants[0][1] == 72_000 and info.measured == (low, high)


def test_a_group_no_difference_reaches_keeps_its_advertised_rate() -> None:
    """Each group with its own videos: measuring one says nothing of the other."""
    text = "#EXTM3U\n" + MEDIA.format(g="aud1", n="English", u="a1.m3u8")
    text += MEDIA.format(g="aud2", n="English", u="a2.m3u8")
    text += VIDEO.format(bw=2_000_000, avg=1_900_000, res="960x540", g="aud1", u="v1.m3u8")
    text += VIDEO.format(bw=4_000_000, avg=3_900_000, res="1280x720", g="aud2", u="v2.m3u8")
    rates, (low, high) = _rates(text)
    assert rates.landed(low, _segment(0), 32_000) == {low: 128_000}
    assert [bw for _, bw, _ in rates.ladder_info().variants] == [128_000, 4_000_000]
    assert rates.landed(high, _segment(0), 48_000) == {high: 192_000}


def test_priced_rungs_are_never_measured() -> None:
    master = _master(apple_master())  # "aac-64", "aac-128": the names price them
    assert MeasuredRates.for_ladder(master, playback_ladder(master, None)) is None


def test_a_rerated_ladder_keeps_its_order() -> None:
    """A rate that would pass the rung below's is raised to it: positions are the
    controller's state (its rung, BOLA's thresholds)."""
    ladder = [VariantInfo(0, 2_000_000), VariantInfo(1, 2_100_000), VariantInfo(2, 2_200_000)]
    by_index = {v.index: v for v in ladder}
    every, out = rerated(by_index, ladder, {2: 150_000})
    assert [v.bandwidth for v in out] == [2_000_000, 2_100_000, 2_100_000]
    assert every[2].bandwidth == 150_000  # the measured rate is kept for the next re-rate
    every, out = rerated(every, out, {0: 100_000, 1: 160_000})
    assert [v.bandwidth for v in out] == [100_000, 160_000, 160_000]


def test_the_controller_climbs_once_the_rungs_are_rerated() -> None:
    ctrl = AbrController([VariantInfo(0, 2_227_000), VariantInfo(1, 2_293_000)])
    ctrl.estimator.add_sample(250_000, 2.0, 0.01, 0.0)  # 1 Mbit/s
    assert ctrl.choose(0.0, 0.0).to_variant == 0
    ctrl.rerate({0: 72_000, 1: 138_000})
    assert [v.bandwidth for v in ctrl.variants] == [72_000, 138_000]
    assert ctrl.choose(20.0, 30.0).to_variant == 1


def test_the_dashboard_marks_measured_rates() -> None:
    state = DashboardState(wall_offset=0.0)
    state.apply(LadderInfo(ts=0.0, variants=((0, 2_227_000, "mp4a.40.2"), (3, 2_293_000, ""))))
    state.apply(
        LadderInfo(ts=1.0, variants=((0, 72_000, "mp4a.40.2"), (3, 138_000, "")), measured=(0, 3))
    )
    console = Console(record=True, width=100, force_terminal=True, color_system=None)
    console.print(render_dashboard(state.snapshot(2.0), 100, None))
    text = console.export_text()
    assert "~72 kb/s" in text and "~138 kb/s" in text, text
    assert "Mb/s" not in "".join(line for line in text.splitlines() if " v3 " in line)


def test_play_on_a_1_mbit_link_climbs_to_the_unpriced_higher_group(
    hls_server: MediaServer, tmp_path: Path
) -> None:
    """1 Mbit/s carries either group many times over. Before: the rungs read 2.2 and
    2.3 Mbit/s and every segment came from "aud1" (ts/64k)."""
    hls_server.add_route("master.m3u8", static(apple_master(BIPBOP)))
    hls_server.set_faults("ts/*.ts", Faults(rate_total=125_000))
    events = tmp_path / "events.jsonl"
    url = hls_server.url("master.m3u8")
    proc = play(url, "--output", "null", "--length", "12", "--events", str(events))
    assert proc.returncode == 0, proc.stderr
    paths = [r.path for r in hls_server.stats.requests()]
    high = [p for p in paths if p.startswith("ts/128k_")]
    low = [p for p in paths if p.startswith("ts/64k_")]
    # the first segments come from "aud1" (nothing measured yet, the buffer thin); once the
    # buffer allows a climb it goes to "aud2" and stays
    assert len(high) >= 3 and low, (high, low)
    first_high = paths.index(high[0])
    assert not [p for p in paths[first_high:] if p.startswith("ts/64k_")], paths
    # The dashboard's rungs: first as advertised, then as measured.
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    ladders = [e for e in lines if e["event"] == "LadderInfo"]
    assert [bw for _, bw, _ in ladders[0]["variants"]] == [2_227_000, 2_293_000]
    last = ladders[-1]
    assert all(bw < 300_000 for _, bw, _ in last["variants"]), last
    assert len(last["measured"]) == 2, last
