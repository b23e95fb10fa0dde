"""What ``kithara fetch`` says about an HLS fetch matches what it did.

* ``--duration`` at a plain URL (no .m3u8) that serves an HLS playlist: fetch first asks
  whether the URL is a live (radio) stream; the playlist has a length, so it printed "not a
  live stream: --duration does not apply, fetching the file", and then read the playlist as
  HLS and honoured --duration all the same (3 segments of 11 written). Now that note comes
  only where the answer is a file, saved whole.
* The closing line said "saved out.ts (11 segments, 478084 bytes, 0.03 s)": the seconds were
  the time the fetch took, read as the recording's length (a 20-minute live recording said
  "1203.5 s", a 20 s VOD "0.03 s"). Now it names both: the audio's length (the segments'
  EXTINF durations) and the time taken, with the speed, as the progressive fetch shows it.
"""

from __future__ import annotations

from pathlib import Path

import hls_fixtures
from hls_fixtures import HlsMedia, expected_bytes, fetch, static
from kithara_cli.server import MediaServer

hls_media = hls_fixtures.hls_media
hls_server = hls_fixtures.hls_server


def _plain_playlist(media: HlsMedia, server: MediaServer) -> str:
    """The 128k media playlist at a URL with no .m3u8, its segment URIs absolute."""
    lines = (media.ts.variants[1]).read_text().splitlines()
    body = "\n".join(
        line if line.startswith("#") or not line.strip() else server.url(f"ts/{line}")
        for line in lines
    )
    server.add_route("stream", static(body + "\n"))
    return server.url("stream")


def test_duration_at_a_plain_url_of_hls_is_honoured_without_saying_it_does_not_apply(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    out = tmp_path / "clip.ts"
    proc = fetch(_plain_playlist(hls_media, hls_server), "-o", str(out), "--duration", "5")
    assert proc.returncode == 0, proc.stderr
    assert "not a live stream" not in proc.stderr, proc.stderr
    assert "apply" not in proc.stderr, proc.stderr
    segments = hls_media.ts.segments[1]
    assert out.read_bytes() == b"".join(p.read_bytes() for p in segments[:3])  # 6 s >= 5 s
    assert "0:06 of audio in 3 segments" in proc.stderr, proc.stderr


def test_duration_at_a_file_still_says_it_did_not_apply(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    out = tmp_path / "one.ts"
    first = hls_media.ts.segments[1][0]
    proc = fetch(hls_server.url(f"ts/{first.name}"), "-o", str(out), "--duration", "5")
    assert proc.returncode == 0, proc.stderr
    assert "not a live stream (a file with a length): --duration did not apply" in proc.stderr
    assert out.read_bytes() == first.read_bytes()


def test_saved_line_names_the_audio_length_and_the_time_taken(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    out = tmp_path / "all.ts"
    proc = fetch(hls_server.url("ts/128k.m3u8"), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == expected_bytes(hls_media.ts, 1)
    count = len(hls_media.ts.segments[1])
    line = next(x for x in proc.stderr.splitlines() if "saved" in x)
    assert f"(0:20 of audio in {count} segments, {out.stat().st_size} bytes; took " in line, line
    assert line.rstrip().endswith("/s)"), line  # the speed, as the progressive line ends
