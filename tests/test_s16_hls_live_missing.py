"""A live playlist every one of whose segments answers 404 (URIs that lead nowhere: a
packager writing relative paths the web server does not map, an origin that lost its
storage while its playlist goes on).

A live segment that answers 404/410 is a gap (it left the window before its turn; playback
skips it towards the edge), which is right for one or two. Before, a stream of nothing but
such gaps was skipped through for ever: ``fetch`` wrote nothing and never ended, ``play``
printed "segment N is gone" every target duration and played nothing (streamlink gives up
after 60 s without data, hls.js after its fragment retries). Now 10 gone in a row end
either with that error (exit 4, one line).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import hls_fixtures
from hls_fixtures import assert_nothing_written, assert_one_line_error, fetch, play
from kithara_cli.server import MediaServer

COUNT = 200
INTERVAL = 0.5
Reply = tuple[int, dict[str, str], bytes]


class NowhereLive:
    """A live playlist (target duration 1, no ENDLIST) growing by a segment every INTERVAL s,
    its segments under a folder the server does not have."""

    def __init__(self) -> None:
        self.names = [f"nowhere/seg{i:05d}.ts" for i in range(COUNT)]
        self.lock = threading.Lock()
        self.t0: float | None = None

    def __call__(self, path: str, query: dict[str, str], now: float) -> Reply:
        with self.lock:
            self.t0 = now if self.t0 is None else self.t0
            visible = min(COUNT, 5 + int((now - self.t0) / INTERVAL))
        body = hls_fixtures.live_window(self.names, [1.0] * COUNT, visible, 6, False)
        return 200, {"Content-Type": "application/vnd.apple.mpegurl"}, body


def test_fetch_of_a_live_stream_whose_segments_all_404_ends(tmp_path: Path) -> None:
    out = tmp_path / "out.ts"
    with MediaServer(tmp_path) as server:
        server.add_route("live.m3u8", NowhereLive())
        started = time.monotonic()
        proc = fetch(server.url("live.m3u8"), "-o", str(out), "-q", timeout=60)
    assert proc.returncode == 4, proc.stderr
    assert_one_line_error(proc, "404", "10 live segments in a row")
    assert time.monotonic() - started < 40
    assert_nothing_written(out)


def test_play_of_a_live_stream_whose_segments_all_404_ends(tmp_path: Path) -> None:
    with MediaServer(tmp_path) as server:
        server.add_route("live.m3u8", NowhereLive())
        proc = play(server.url("live.m3u8"), "--output", "null", timeout=60)
    assert proc.returncode == 4, proc.stderr
    last = [line for line in proc.stderr.splitlines() if line.strip()][-1]
    assert last.startswith("kithara: error: ") and "10 live segments in a row" in last, last
    assert "Traceback" not in proc.stderr
