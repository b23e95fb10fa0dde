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

import threading

import hls_fixtures
from hls_fixtures import HlsMedia, play
from kithara_cli.server import MediaServer, RouteHandler

hls_media = hls_fixtures.hls_media
hls_server = hls_fixtures.hls_server

START_VISIBLE = 1  # the live playlist lists one segment when playback starts
INTERVAL = 2.0  # then a new one every segment's duration: real time
SEGMENTS = 6

Reply = tuple[int, dict[str, str], bytes]


class LiveLadder:
    """Both variants' live playlists on one clock (numbered alike), ENDLIST at the end."""

    def __init__(self, media: HlsMedia) -> None:
        self.media = media
        self.lock = threading.Lock()
        self.t0: float | None = None

    def route(self, variant: int) -> RouteHandler:
        names = [p.name for p in self.media.ts.segments[variant]][:SEGMENTS]
        durations = self.media.ts.segment_durations[variant][:SEGMENTS]

        def handler(path: str, query: dict[str, str], now: float) -> Reply:
            with self.lock:
                self.t0 = now if self.t0 is None else self.t0
                visible = min(len(names), START_VISIBLE + int((now - self.t0) / INTERVAL))
            body = hls_fixtures.live_window(names, durations, visible, 8, True)
            return 200, {"Content-Type": "application/vnd.apple.mpegurl"}, body

        return handler


def test_live_play_from_a_one_segment_playlist_keeps_the_rung_the_link_carries(
    hls_media: HlsMedia, hls_server: MediaServer
) -> None:
    ladder = LiveLadder(hls_media)
    lines = ["#EXTM3U"]
    for variant in (0, 1):
        hls_server.add_route(f"ts/live{variant}.m3u8", ladder.route(variant))
        bandwidth = hls_media.ts.bandwidths[variant]
        lines += [
            f'#EXT-X-STREAM-INF:BANDWIDTH={bandwidth},CODECS="mp4a.40.2"',
            f"live{variant}.m3u8",
        ]
    hls_server.add_route("ts/live-master.m3u8", hls_fixtures.static("\n".join(lines) + "\n"))
    proc = play(hls_server.url("ts/live-master.m3u8"), "--output", "null", timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "start → v1" in proc.stderr, proc.stderr
    assert "v1 → v0" not in proc.stderr, proc.stderr
    high = [r.path for r in hls_server.stats.requests() if r.path.startswith("ts/128k_")]
    low = [r.path for r in hls_server.stats.requests() if r.path.startswith("ts/64k_")]
    assert low == [], low
    assert len(high) == SEGMENTS, high
