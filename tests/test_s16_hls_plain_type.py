"""HLS at a URL with no .m3u8 in its path (``/live/stream``, Azure's ``Manifest(format=
m3u8-aapl)``, a CMS's ``/hls?id=5``), served with the type RFC 8216 names for it
(application/vnd.apple.mpegurl), the older application/x-mpegURL, or a generic text/plain or
application/octet-stream.

``kithara play`` and ``fetch --list`` read such a body by content (as FFmpeg's HLS demuxer
probes it), but ``kithara fetch -o FILE`` took it for a small progressive file: it saved the
playlist's text as FILE.ts and exited 0 ("saved ... (394 bytes)"). Only audio/x-mpegurl
was read as a playlist (tests/test_hls_plain_name.py). Now a body that is an HLS playlist
is fetched as HLS whatever its type says.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import hls_fixtures
from hls_fixtures import HlsMedia, assert_tone, expected_bytes, fetch
from kithara_cli.server import MediaServer

hls_media = hls_fixtures.hls_media

BEST = 1  # the 128k variant, which fetch's "best" picks

TYPES = [
    "application/vnd.apple.mpegurl",
    "application/x-mpegURL",
    "text/plain; charset=utf-8",
    "application/octet-stream",
]


def _serve(server: MediaServer, path: str, body: bytes, content_type: str) -> str:
    server.add_route(path, lambda _p, _q, _n: (200, {"Content-Type": content_type}, body))
    return server.url(path)


@pytest.mark.parametrize("content_type", TYPES)
def test_fetch_saves_the_stream_of_a_master_under_a_plain_name(
    hls_media: HlsMedia, tmp_path: Path, content_type: str
) -> None:
    body = (hls_media.root / "ts" / "master.m3u8").read_bytes()
    out = tmp_path / "out.ts"
    with MediaServer(hls_media.root) as server:
        url = _serve(server, "ts/stream", body, content_type)
        proc = fetch(url, "-o", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    assert not out.read_bytes().startswith(b"#EXTM3U"), "the playlist's text saved as audio"
    assert out.read_bytes() == expected_bytes(hls_media.ts, BEST)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.ts"]


def test_fetch_saves_a_media_playlist_with_a_bom_under_a_plain_name(
    hls_media: HlsMedia, tmp_path: Path
) -> None:
    """A media playlist (segments relative to the URL's folder), BOM and CRLF, as a
    Windows-made playlist is, served as text/plain, to an .m4a: remuxed."""
    text = (hls_media.root / "ts" / hls_media.ts.variants[0].name).read_bytes()
    body = b"\xef\xbb\xbf" + text.replace(b"\n", b"\r\n")
    out = tmp_path / "out.m4a"
    with MediaServer(hls_media.root) as server:
        url = _serve(server, "ts/index", body, "text/plain")
        proc = fetch(url, "-o", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    assert_tone(out, hls_media.ts.seconds)


def test_a_text_file_that_is_no_playlist_is_still_saved_as_it_is(tmp_path: Path) -> None:
    body = b"#EXTM3U is how an HLS playlist starts; this is a note about it.\n"
    out = tmp_path / "note.txt"
    with MediaServer(tmp_path) as server:
        url = _serve(server, "note", body, "text/plain")
        proc = fetch(url, "-o", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == body
