"""``kithara play`` of a live HLS ladder into a WAV file keeps the rate the link carries.

A WAV sink drains the ring as fast as audio comes (it is not paced to real time), so its
playhead runs up to the live edge, where the next segment is not listed yet: the buffer
read 0.0 s at every new segment, and the ABR stepped down on a fast link ("v1 -> v0
(throughput): 18.8 Mb/s, buffer 0.0 s"), so the file held the lowest rate. The empty buffer
there is the live edge, not the link. Now, for a live stream into an unpaced sink, the ABR
judges by where a real-time listener who started with it would be (the session likewise
never counts such a sink's empty ring as a rebuffer).
"""

from __future__ import annotations

from pathlib import Path

import hls_fixtures
from hls_fixtures import HlsMedia, decode, play, tone_seconds
from kithara_cli.server import MediaServer

hls_media = hls_fixtures.hls_media
hls_server = hls_fixtures.hls_server

START_VISIBLE = 5
INTERVAL = 0.5  # a new segment of each variant every INTERVAL s


def test_live_play_into_a_wav_file_does_not_step_down_at_the_live_edge(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    master = hls_fixtures.serve_live_ladder(hls_server, hls_media, START_VISIBLE, INTERVAL)
    wav = tmp_path / "out.wav"
    proc = play(master, "--output", f"wav:{wav}", timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "start → v1" in proc.stderr, proc.stderr  # the link carries the 128k from the start
    assert "v1 → v0" not in proc.stderr, proc.stderr
    low = [r.path for r in hls_server.stats.requests() if r.path.startswith("ts/64k_")]
    assert low == [], low
    heard = tone_seconds(decode(wav))
    assert heard == list(range(heard[0], heard[0] + len(heard))), heard
