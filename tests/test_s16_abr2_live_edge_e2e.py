"""``kithara play`` of a live HLS ladder whose playlist lists one segment at start keeps the
rung the link carries (issue 20).

Played into a real-time sink at the live edge, the buffer is a fraction of a second whenever
the next segment appears. After the first segment (47 kB, under the estimator's 64 kB of
trust) the estimate is still the 500 kbit/s default, by which the 195 kbit/s rung's 2 s
segment takes 0.8 s: the throughput rule judged that fetch against a 0.2 s buffer and stepped
down on a loopback link ("v1 → v0 (throughput): 500 kb/s, buffer 0.2 s"), and a live edge
never builds the buffer to climb back. The fetch is now timed at the rate measured (the
default still bounds the rung) and given at least the empty buffer's 0.5 s.
"""

from __future__ import annotations

import hls_fixtures
from hls_fixtures import HlsMedia, play
from kithara_cli.server import MediaServer

hls_media = hls_fixtures.hls_media
hls_server = hls_fixtures.hls_server

START_VISIBLE = 1  # the live playlist lists one segment when playback starts
INTERVAL = 2.0  # then a new one every segment's duration: real time
SEGMENTS = 6


def test_live_play_from_a_one_segment_playlist_keeps_the_rung_the_link_carries(
    hls_media: HlsMedia, hls_server: MediaServer
) -> None:
    master = hls_fixtures.serve_live_ladder(
        hls_server, hls_media, START_VISIBLE, INTERVAL, SEGMENTS
    )
    proc = play(master, "--output", "null", timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "start → v1" in proc.stderr, proc.stderr
    assert "v1 → v0" not in proc.stderr, proc.stderr
    high = [r.path for r in hls_server.stats.requests() if r.path.startswith("ts/128k_")]
    low = [r.path for r in hls_server.stats.requests() if r.path.startswith("ts/64k_")]
    assert low == [], low
    assert len(high) == SEGMENTS, high
