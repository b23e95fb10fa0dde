"""An HLS playlist at a URL that does not say .m3u8 (``/live/stream``, ``/hls?id=7``: many
origins and players name it so) is read once by ``fetch --list`` and by ``fetch`` of a
``.m3u`` link that turns out to be HLS. Before: the command fetched it to tell it from a
station link or a podcast feed, then the HLS loader fetched it again (two requests, twice the
wait on a slow origin). Now the body read first is parsed and listed (or fetched from)."""

from __future__ import annotations

import json
from pathlib import Path

import hls_fixtures
from hls_fixtures import assert_tone, fetch, static
from kithara_cli.server import MediaServer

hls_media = hls_fixtures.hls_media
hls_server = hls_fixtures.hls_server

MASTER = (
    "#EXTM3U\n"
    '#EXT-X-STREAM-INF:BANDWIDTH=70000,CODECS="mp4a.40.2"\nts/64k.m3u8\n'
    '#EXT-X-STREAM-INF:BANDWIDTH=140000,CODECS="mp4a.40.2"\nts/128k.m3u8\n'
)


def test_fetch_list_reads_an_unnamed_master_once(hls_server: MediaServer) -> None:
    hls_server.add_route("live/stream", static(MASTER))
    proc = fetch("--list", "--json", hls_server.url("live/stream"))
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)["variants"]
    assert [row["bandwidth"] for row in rows] == [70000, 140000]
    assert len(hls_server.stats.requests("live/stream")) == 1


def test_fetch_list_reads_an_unnamed_media_playlist_once(hls_server: MediaServer) -> None:
    text = (hls_server.root / "ts" / "64k.m3u8").read_text()
    hls_server.add_route("ts/now", static(text))
    proc = fetch("--list", "--json", hls_server.url("ts/now"))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["variants"][0]["segments"] == text.count("#EXTINF")
    assert len(hls_server.stats.requests("ts/now")) == 1


def test_fetch_of_an_m3u_link_that_is_hls_reads_it_once(
    hls_server: MediaServer, tmp_path: Path
) -> None:
    """A ``.m3u`` URL is read as a station link first; HLS inside is fetched from that body."""
    hls_server.add_route("stream.m3u", static(MASTER))
    out = tmp_path / "out.ts"
    proc = fetch(hls_server.url("stream.m3u"), "--out", str(out), "--variant", "worst", "-q")
    assert proc.returncode == 0, proc.stderr
    assert_tone(out, hls_fixtures.SECONDS)
    assert len(hls_server.stats.requests("stream.m3u")) == 1
