"""A variant whose media playlist failed stays out of the ABR's picks for the whole play.

A stale master lists a 128k rung whose playlist answers 404 (the packager no longer writes
it). Play leaves it out (``v1 left out: its playlist failed``) and the ABR excludes it for
30 s, as after a failed segment; its playlist is never asked again. Before, once those 30 s
lapsed the ABR switched to it ("v0 -> v1 (buffer)") while v0 went on serving every segment in
its place: the ABR's state, its decision lines and the events named a variant that played
nothing. Now the exclusion of a variant that is gone (it and every backup copy) is renewed
before each pick, so the ABR picks only what can play.

In-process, with the source's clock moved on 31 s (the exclusion is 30 s of wall time).
"""

from __future__ import annotations

import time
from pathlib import Path

import hls_fixtures
from hls_fixtures import HlsMedia, wait_for
from kithara_cli.abr.controller import AbrController, VariantInfo
from kithara_cli.dl import Downloader
from kithara_cli.events import EventBus
from kithara_cli.events.types import AbrDecision, Event
from kithara_cli.hls.loader import playback_ladder
from kithara_cli.hls.playlist import parse_playlist
from kithara_cli.hls.source import HlsSource
from kithara_cli.net.retry import RetryPolicy
from kithara_cli.server import MediaServer

hls_media = hls_fixtures.hls_media
hls_server = hls_fixtures.hls_server


class MovableClock:
    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset


def test_a_variant_whose_playlist_failed_is_not_picked_once_its_exclusion_lapses(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    low, high = (p.name for p in hls_media.ts.variants)
    inf = '#EXT-X-STREAM-INF:BANDWIDTH={},CODECS="mp4a.40.2"'
    rates = hls_media.ts.bandwidths
    text = f"#EXTM3U\n{inf.format(rates[0])}\n{low}\n{inf.format(rates[1])}\ngone/{high}\n"
    hls_server.add_route("ts/stale.m3u8", hls_fixtures.static(text))
    events: list[Event] = []
    bus = EventBus()
    bus.subscribe(events.append)
    clock = MovableClock()
    with Downloader(bus, retry=RetryPolicy(max_attempts=1)) as dl:
        body, final = dl.fetch_bytes(hls_server.url("ts/stale.m3u8"))
        rungs = playback_ladder(parse_playlist(body, final), None)
        infos = [VariantInfo(r.index, r.bandwidth, r.codecs) for r in rungs]
        source = HlsSource(dl, rungs, AbrController(infos), tmp_path, clock=clock)
        try:
            source.open_run(0.0)  # the ABR's 500 kb/s first guess: v1, whose playlist is gone
            source.playback_started()
            total = len(source.reference.segments)
            run = source._run
            assert run is not None
            wait_for(lambda: run.next_place >= total, 20, "every segment placed")
            assert {p.variant for p in run.placed} == {0}
            assert hls_server.stats.requests(f"ts/gone/{high}"), "v1 was never tried"
            clock.offset = 31.0  # past the 30 s exclusion; a full buffer: BOLA wants the top
            assert source._choose(total - 1) == 0
        finally:
            source.close()
    picked = [e.to_variant for e in events if isinstance(e, AbrDecision)]
    assert picked[0] == 0 and set(picked) == {0}, picked  # never a switch to v1
