"""What a URL serves, told by its first bytes when its Content-Type does not name audio.

Found by a user-level review of ``kithara play`` (session 10). Each of these was
``cannot open the audio: InvalidDataError: [Errno 1094995529] Invalid data found when
processing input`` (exit 5): a Wi-Fi login page (text/html 200, the captive portal), a .pls
or a list of URLs served as text/plain under a plain name (``/listen``), HLS served under a
plain name as application/vnd.apple.mpegurl (RFC 8216's own type) or text/plain, and an
empty 200. mpv and ffplay open the links and the playlists by their content.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import hls_fixtures
import radio_fixtures
from conftest import run_cli
from hls_fixtures import HlsMedia
from kithara_cli.media.encode import encode_file
from kithara_cli.play.served import live_hint
from kithara_cli.server import MediaServer
from kithara_cli.server.radio import Station, link_text
from radio_fixtures import BITRATE, read_events

hls_media = hls_fixtures.hls_media
radio_root = radio_fixtures.radio_root
radio_mp3 = radio_fixtures.radio_mp3

PORTAL = b"<!DOCTYPE html>\n<html><head><title>Hotel Wi-Fi</title></head><body>Log in</body></html>"


def _play(url: str, *args: str) -> tuple[int, list[str], str]:
    r = run_cli("play", url, "--output", "null", "--no-ui", "--length", "0.5", *args, timeout=40)
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    return r.returncode, lines, r.stderr


def _route(srv: MediaServer, path: str, body: bytes, ctype: str | None) -> str:
    headers = {"Content-Type": ctype} if ctype is not None else {}
    srv.add_route(path, lambda _p, _q, _n: (200, headers, body))
    return srv.url(path)


@pytest.mark.parametrize(
    ("body", "ctype"),
    [
        (PORTAL, "text/html; charset=utf-8"),
        (PORTAL, None),
        (b"  <html><body>Sign in</body></html>", "application/octet-stream"),
        (b"<p>no doctype</p>", "text/html"),
    ],
)
def test_a_web_page_is_named_as_such(
    radio_root: Path, body: bytes, ctype: str | None, tmp_path: Path
) -> None:
    with MediaServer(radio_root) as srv:
        # (no Content-Type: the server names one by the extension; "portal" has none)
        code, lines, err = _play(_route(srv, "song.mp3" if ctype else "portal", body, ctype))
    assert code == 5, err
    assert len(lines) == 1 and "web page" in lines[0] and "not audio" in lines[0], lines
    assert "InvalidDataError" not in err


def test_an_empty_answer_is_named_as_such(radio_root: Path) -> None:
    with MediaServer(radio_root) as srv:
        code, lines, err = _play(_route(srv, "song.mp3", b"", "audio/mpeg"))
    assert code == 5, err
    assert len(lines) == 1 and "empty" in lines[0], lines


@pytest.mark.parametrize("ctype", ["text/plain", "application/octet-stream", "text/html", None])
@pytest.mark.parametrize("kind", ["pls", "m3u", "xspf"])
def test_a_station_link_served_as_text_plays(
    radio_root: Path, radio_mp3: bytes, kind: str, ctype: str | None
) -> None:
    with MediaServer(radio_root) as srv:
        route = srv.add_radio("live.mp3", Station(radio_mp3, BITRATE, pace=4))
        body, _ = link_text(kind, [srv.url("live.mp3")])
        code, _, err = _play(_route(srv, "listen", body.encode(), ctype))
    assert code == 0, err
    assert "STATION" in err and route.connections == 1


@pytest.mark.parametrize("ctype", ["application/vnd.apple.mpegurl", "text/plain", None])
def test_hls_under_a_plain_name_plays_by_its_content(hls_media: HlsMedia, ctype: str) -> None:
    body = (hls_media.root / "ts" / "master.m3u8").read_bytes()
    with MediaServer(hls_media.root) as srv:
        code, _, err = _play(_route(srv, "ts/live", body, ctype))
        segments = [r.path for r in srv.stats.requests() if r.path.endswith(".ts")]
    assert code == 0, err
    assert "first audio" in err and segments


def test_mp3_as_octet_stream_still_plays_with_one_request(radio_root: Path) -> None:
    data = (radio_root / "short.mp3").read_bytes()
    with MediaServer(radio_root) as srv:
        code, _, err = _play(_route(srv, "dl", data, "application/octet-stream"))
        gets = [r for r in srv.stats.requests("dl") if r.method == "GET"]
    assert code == 0, err
    assert "first audio" in err
    assert len(gets) == 1  # the sniff read the first response's bytes: no second request


# --- a live stream whose Content-Type lies: its demuxer named by its frames -----------------


@pytest.fixture(scope="session")
def live_codecs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    root = tmp_path_factory.mktemp("live_codecs")
    out = {}
    for fmt in ("mp3", "aac", "ogg"):
        out[fmt] = encode_file(root / f"t.{fmt}", 6.0, fmt, bitrate=128_000).read_bytes()
    return out


@pytest.mark.parametrize("skip", [0, 1, 333, 1000])
def test_live_hint_names_what_the_frames_are(live_codecs: dict[str, bytes], skip: int) -> None:
    """Joined mid-frame (``skip``), with a Content-Type that lies or says nothing."""
    mp3, aac = (live_codecs[k][4000 + skip : 12000 + skip] for k in ("mp3", "aac"))
    for ctype in ("audio/aacp", "application/octet-stream", None):
        assert live_hint(mp3, ctype) == ("audio/mpeg", True)
    for ctype in ("audio/mpeg", "application/octet-stream", None):
        assert live_hint(aac, ctype) == ("audio/aac", True)
    assert live_hint(live_codecs["ogg"][4000 + skip :], "audio/mpeg") == ("audio/ogg", True)
    # Truthful and short (one frame so far): settled at once, no wait for three.
    first = mp3.find(b"\xff")
    assert live_hint(mp3[: first + 600], "audio/mpeg") == ("audio/mpeg", True)
    # An Ogg mount's first bytes are its headers: trusted at once, as before.
    assert live_hint(b"\x01", "application/ogg") == ("audio/ogg", True)
    # Nothing recognisable: the Content-Type stands, unsettled (more bytes may tell).
    assert live_hint(b"\x00" * 4000, "audio/flac") == ("audio/flac", False)


@pytest.mark.parametrize(
    ("fmt", "ctype"),
    [("aac", "audio/mpeg"), ("mp3", "application/octet-stream"), ("mp3", "audio/aacp")],
)
def test_a_lying_radio_starts_as_fast_as_a_truthful_one(
    radio_root: Path, live_codecs: dict[str, bytes], fmt: str, ctype: str, tmp_path: Path
) -> None:
    """Before: 4.4 s (AAC as audio/mpeg) and 8.4 s (MP3 as octet-stream or audio/aacp) to
    first audio at real-time pace, 0.8-0.9 s after; at half pace, as here, twice that."""
    station = Station(live_codecs[fmt], 128_000, content_type=ctype, pace=0.5, titles=["t"])
    with MediaServer(radio_root) as srv:
        srv.add_radio("live", station)
        ev = tmp_path / "ev.jsonl"
        code, _, err = _play(srv.url("live"), "--events", str(ev))
    assert code == 0, err
    (started,) = [e for e in read_events(ev) if e["event"] == "PlaybackStarted"]
    assert started["time_to_first_audio"] < 4.0, started


@pytest.mark.parametrize("name", ["live.m3u8", "station.pls", "station.m3u", "list.xspf"])
def test_a_web_page_under_a_playlist_name_is_named_as_such(radio_root: Path, name: str) -> None:
    """Before: the .m3u8 requested a URL made of the page's HTML (``HTTP 404 not found:
    http://host/<!DOCTYPE html>...``, exit 4); the .pls quoted configparser's message."""
    with MediaServer(radio_root) as srv:
        code, lines, err = _play(_route(srv, name, PORTAL, "text/html"))
    assert code == 5, err
    assert len(lines) == 1 and "web page" in lines[0] and "not audio" in lines[0], lines
