"""HLS served under a plain name (``/stream``, Content-Type audio/x-mpegurl, as some servers
label playlists): fetch saves the stream and play plays it, as they do for ``.m3u8`` URLs.
Before, fetch saved the playlist's own text and exited 0, and play failed (exit 5)."""

from __future__ import annotations

from pathlib import Path

import hls_fixtures
from hls_fixtures import HlsMedia, expected_bytes, fetch, play
from kithara_cli.server import MediaServer

hls_media = hls_fixtures.hls_media

BEST = 1  # the 128k variant, which fetch's "best" picks


def _serve_plain(server: MediaServer, media: HlsMedia) -> str:
    body = (media.root / "ts" / "master.m3u8").read_bytes()
    server.add_route(
        "ts/stream", lambda _p, _q, _n: (200, {"Content-Type": "audio/x-mpegurl"}, body)
    )
    return server.url("ts/stream")


def test_fetch_saves_hls_served_under_a_plain_name(hls_media: HlsMedia, tmp_path: Path) -> None:
    out = tmp_path / "out.ts"
    with MediaServer(hls_media.root) as server:
        proc = fetch(_serve_plain(server, hls_media), "-o", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == expected_bytes(hls_media.ts, BEST)
    assert list(tmp_path.iterdir()) == [out], "no .part or state file left behind"


def test_play_plays_hls_served_under_a_plain_name(hls_media: HlsMedia) -> None:
    with MediaServer(hls_media.root) as server:
        proc = play(_serve_plain(server, hls_media), "--output", "null", "--length", "0.5")
        segments = [r.path for r in server.stats.requests() if r.path.endswith(".ts")]
    assert proc.returncode == 0, proc.stderr
    assert "first audio" in proc.stderr
    assert segments, "the variant's segments were played"
