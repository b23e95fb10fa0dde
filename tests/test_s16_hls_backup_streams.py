"""A master playlist naming a variant whose media playlist cannot be loaded.

Two ways real masters do it:

* redundant streams (RFC 8216 6.2.3, Apple's "backup streams"; Akamai and MediaLive write
  them for their two pipelines): each variant listed twice with the same BANDWIDTH and CODECS,
  the second on another host; when the primary host is down, hls.js and AVPlayer go on with
  the backup;
* a rung the packager no longer writes (a stale master): its playlist answers 404; FFmpeg
  (and so mpv) marks it broken and plays the others.

Before, both ``kithara fetch`` (best: the dead one) and ``kithara play`` (the ABR's start
variant) ended at once with that variant's error (exit 3 or 4), and the ABR's ladder keeps
one rung per rate, so play never reached a backup at all. Now fetch takes the backup, or
for ``best``/``worst`` the best of those that load, saying so; an index still names one
variant. Play leaves the dead variant out and starts on its backup or another rung, and
a later switch to it is served by the variant playing.
"""

from __future__ import annotations

import socket
from pathlib import Path

import hls_fixtures
from hls_fixtures import (
    HlsMedia,
    assert_one_line_error,
    assert_tone,
    decode,
    expected_bytes,
    fetch,
    play,
    tone_seconds,
)
from kithara_cli.server import MediaServer

hls_media = hls_fixtures.hls_media

MPEGURL = {"Content-Type": "application/vnd.apple.mpegurl"}


def _dead_origin() -> str:
    """An origin where nothing listens (a primary host that is down): connection refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _stream_inf(media: HlsMedia, variant: int) -> str:
    bandwidth = media.ts.bandwidths[variant]
    return f'#EXT-X-STREAM-INF:BANDWIDTH={bandwidth},CODECS="mp4a.40.2"'


def _redundant_master(media: HlsMedia) -> str:
    """Both variants on a dead primary host, then both again (relative) as backups."""
    dead = _dead_origin()
    lines = ["#EXTM3U"]
    for host in (f"{dead}/ts/", ""):
        for variant, path in enumerate(media.ts.variants):
            lines += [_stream_inf(media, variant), f"{host}{path.name}"]
    return "\n".join(lines) + "\n"


def _stale_master(media: HlsMedia) -> str:
    """The 64k rung, and a 128k rung whose playlist is gone (404)."""
    low, high = (p.name for p in media.ts.variants)
    return "\n".join(
        ["#EXTM3U", _stream_inf(media, 0), low, _stream_inf(media, 1), f"gone/{high}", ""]
    )


def _serve(server: MediaServer, text: str) -> str:
    server.add_route("ts/master-s16.m3u8", lambda _p, _q, _n: (200, MPEGURL, text.encode()))
    return server.url("ts/master-s16.m3u8")


def test_fetch_takes_the_backup_stream_of_a_primary_that_is_down(
    hls_media: HlsMedia, tmp_path: Path
) -> None:
    out = tmp_path / "out.ts"
    with MediaServer(hls_media.root) as server:
        proc = fetch(_serve(server, _redundant_master(hls_media)), "-o", str(out), "--retries", "1")
    assert proc.returncode == 0, proc.stderr
    assert "variant 1 failed (connection refused" in proc.stderr, proc.stderr
    assert "fetching its backup stream, variant 3" in proc.stderr, proc.stderr
    assert out.read_bytes() == expected_bytes(hls_media.ts, 1)  # the 128k, from the backup


def test_fetch_best_takes_the_best_variant_whose_playlist_loads(
    hls_media: HlsMedia, tmp_path: Path
) -> None:
    out = tmp_path / "out.ts"
    with MediaServer(hls_media.root) as server:
        proc = fetch(_serve(server, _stale_master(hls_media)), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "variant 1 failed (HTTP 404" in proc.stderr and "fetching variant 0" in proc.stderr
    assert out.read_bytes() == expected_bytes(hls_media.ts, 0)


def test_fetch_of_a_variant_named_by_index_still_fails_with_its_error(
    hls_media: HlsMedia, tmp_path: Path
) -> None:
    out = tmp_path / "out.ts"
    with MediaServer(hls_media.root) as server:
        url = _serve(server, _stale_master(hls_media))
        proc = fetch(url, "-o", str(out), "-q", "--variant", "1")
    assert proc.returncode == 4, proc.stderr
    assert_one_line_error(proc, "404")
    assert not out.exists()


def test_play_starts_on_the_backup_stream_of_a_primary_that_is_down(
    hls_media: HlsMedia, tmp_path: Path
) -> None:
    wav = tmp_path / "out.wav"
    with MediaServer(hls_media.root) as server:
        url = _serve(server, _redundant_master(hls_media))
        proc = play(url, "--output", f"wav:{wav}", "--retries", "1")
    assert proc.returncode == 0, proc.stderr
    assert "left out: its playlist failed (connection refused" in proc.stderr, proc.stderr
    assert_tone(wav, hls_media.ts.seconds)


def test_play_leaves_out_a_rung_whose_playlist_is_gone(hls_media: HlsMedia, tmp_path: Path) -> None:
    """The ABR starts on the 128k rung (its 500 kb/s first guess carries it): its playlist
    answers 404, so playback goes on the 64k one, every second once, in order."""
    wav = tmp_path / "out.wav"
    with MediaServer(hls_media.root) as server:
        url = _serve(server, _stale_master(hls_media))
        proc = play(url, "--output", f"wav:{wav}")
        assert server.stats.requests("ts/gone/128k.m3u8"), "the ABR never tried the 128k rung"
    assert proc.returncode == 0, proc.stderr
    assert "v1 left out: its playlist failed (HTTP 404" in proc.stderr, proc.stderr
    heard = tone_seconds(decode(wav))
    assert heard == list(range(round(hls_media.ts.seconds))), heard
