"""Playlist text as hand-made and older tools write it: titles and rendition names in
Windows-1252 rather than UTF-8 (one byte like 0xE9 for "é")."""

from __future__ import annotations

import json
from pathlib import Path

import hls_fixtures
from hls_fixtures import HlsMedia, concat, fetch, static
from kithara_cli.server import MediaServer

hls_media = hls_fixtures.hls_media
hls_server = hls_fixtures.hls_server


def test_windows_1252_titles_do_not_fail_the_playlist(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    """#EXTINF titles "Café del Mar – Live" in Windows-1252. Before: 'playlist is not
    UTF-8', exit 5, for a playlist every player reads."""
    ladder = hls_media.ts
    lines = [b"#EXTM3U", b"#EXT-X-TARGETDURATION:2"]
    for d, p in zip(ladder.segment_durations[0], ladder.segments[0], strict=True):
        lines += [
            f"#EXTINF:{d:.6f},".encode() + "Café del Mar – Live".encode("cp1252"),
            p.name.encode(),
        ]
    lines.append(b"#EXT-X-ENDLIST")
    hls_server.add_route("ts/cp1252.m3u8", static(b"\n".join(lines) + b"\n"))
    out = tmp_path / "out.ts"
    proc = fetch(hls_server.url("ts/cp1252.m3u8"), "-o", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == concat(ladder.segments[0])


def test_a_rendition_name_in_windows_1252_is_listed_as_written(
    hls_server: MediaServer,
) -> None:
    master = (
        '#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="Français",LANGUAGE="fr",'
        'DEFAULT=YES,URI="64k.m3u8"\n'
        '#EXT-X-STREAM-INF:BANDWIDTH=64000,CODECS="mp4a.40.2",AUDIO="a"\n64k.m3u8\n'
    ).encode("cp1252")
    hls_server.add_route("ts/fr.m3u8", static(master))
    proc = fetch("--list", "--json", hls_server.url("ts/fr.m3u8"))
    assert proc.returncode == 0, proc.stderr
    names = [r["name"] for v in json.loads(proc.stdout)["variants"] for r in v["renditions"]]
    assert names == ["Français"], names
