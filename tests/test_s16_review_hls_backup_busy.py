"""A primary stream whose host answers 503 (a CDN edge before a dead origin): its backup serves.

Session 16 made a variant whose media playlist fails to load fall back to its redundant copy
(same BANDWIDTH and CODECS, RFC 8216 6.2.3), but only for a refused connection, an HTTP
error status or a bad playlist: a 502/503/504 (``ServerBusyError``, retried, then fatal) was
not among them, so ``fetch`` and ``play`` still ended with the primary's 503 (exit 3), the
backup on its healthy host never asked. hls.js moves to the backup on any level load error
after its retries, FFmpeg on any failure to open the playlist.
"""

from __future__ import annotations

from pathlib import Path

import hls_fixtures
from hls_fixtures import HlsMedia, assert_tone, expected_bytes, fetch, play
from kithara_cli.server import MediaServer

hls_media = hls_fixtures.hls_media


def _busy_primary_master(media: HlsMedia, server: MediaServer) -> str:
    """Each variant on a primary path that always answers 503, then again as its backup."""
    for path in media.ts.variants:
        server.add_route(f"ts/edge/{path.name}", lambda _p, _q, _n: (503, {}, b"origin down"))
    lines = ["#EXTM3U"]
    for prefix in ("edge/", ""):
        for variant, path in enumerate(media.ts.variants):
            bandwidth = media.ts.bandwidths[variant]
            lines += [f'#EXT-X-STREAM-INF:BANDWIDTH={bandwidth},CODECS="mp4a.40.2"']
            lines += [f"{prefix}{path.name}"]
    text = "\n".join(lines) + "\n"
    mpegurl = {"Content-Type": "application/vnd.apple.mpegurl"}
    server.add_route("ts/master-busy.m3u8", lambda _p, _q, _n: (200, mpegurl, text.encode()))
    return server.url("ts/master-busy.m3u8")


def test_fetch_takes_the_backup_of_a_primary_answering_503(
    hls_media: HlsMedia, tmp_path: Path
) -> None:
    out = tmp_path / "out.ts"
    with MediaServer(hls_media.root) as server:
        url = _busy_primary_master(hls_media, server)
        proc = fetch(url, "-o", str(out), "--retries", "1")
    assert proc.returncode == 0, proc.stderr
    assert "variant 1 failed (HTTP 503" in proc.stderr, proc.stderr
    assert "fetching its backup stream, variant 3" in proc.stderr, proc.stderr
    assert out.read_bytes() == expected_bytes(hls_media.ts, 1)


def test_play_starts_on_the_backup_of_a_primary_answering_503(
    hls_media: HlsMedia, tmp_path: Path
) -> None:
    wav = tmp_path / "out.wav"
    with MediaServer(hls_media.root) as server:
        url = _busy_primary_master(hls_media, server)
        proc = play(url, "--output", f"wav:{wav}", "--retries", "1")
    assert proc.returncode == 0, proc.stderr
    assert "left out: its playlist failed (HTTP 503" in proc.stderr, proc.stderr
    assert_tone(wav, hls_media.ts.seconds)
