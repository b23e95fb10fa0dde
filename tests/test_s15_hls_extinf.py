"""Media playlists as some encoders write them, served on loopback with real TS segments.

``#EXTINF:-1,`` (length unknown, the M3U convention for a stream; some live encoders write it
in HLS): FFmpeg (so mpv) plays such a playlist's segments; kithara refused it with "bad
#EXTINF duration -1.0" (exit 5). Now each such segment lasts the target duration, with a
warning. A plain M3U station list (no EXT-X-TARGETDURATION) is still no HLS, and is still
read by the station-link reader where the URL or the body says it is one.

Lower-case tags (``#extinf``, ``#ext-x-targetduration``): RFC 8216 tags are case-sensitive;
FFmpeg ("Invalid data found when processing input") and hls.js (case-sensitive patterns)
refuse such a playlist as HLS too, so kithara's HLS reader still does, but says why in one
line, not "no segments". (mpv, and ``kithara play``, then read it as a plain M3U list.)
"""

from __future__ import annotations

import json
from pathlib import Path

import hls_fixtures
from hls_fixtures import (
    assert_one_line_error,
    assert_tone,
    decode,
    fetch,
    play,
    static,
    tone_seconds,
)
from kithara_cli.server import MediaServer

hls_media = hls_fixtures.hls_media
hls_server = hls_fixtures.hls_server


def _unknown_lengths(server: MediaServer, *, end: bool = True) -> str:
    """The 64k TS ladder's playlist with every #EXTINF written as -1."""
    lines = (server.root / "ts" / "64k.m3u8").read_text().splitlines()
    out = ["#EXTINF:-1," if line.startswith("#EXTINF:") else line for line in lines]
    if not end:
        out = [line for line in out if line != "#EXT-X-ENDLIST"]
    return "\n".join(out) + "\n"


def test_fetch_plays_every_segment_of_unknown_length(
    hls_server: MediaServer, tmp_path: Path
) -> None:
    hls_server.add_route("ts/minus.m3u8", static(_unknown_lengths(hls_server)))
    out = tmp_path / "out.ts"
    proc = fetch(hls_server.url("ts/minus.m3u8"), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "unknown length (#EXTINF:-1)" in proc.stderr, proc.stderr
    assert_tone(out, hls_fixtures.SECONDS)


def test_list_counts_them_at_the_target_duration(hls_server: MediaServer) -> None:
    text = _unknown_lengths(hls_server)
    hls_server.add_route("ts/minus.m3u8", static(text))
    proc = fetch("--list", "--json", hls_server.url("ts/minus.m3u8"))
    assert proc.returncode == 0, proc.stderr
    row = json.loads(proc.stdout)["variants"][0]
    assert row["segments"] == text.count("#EXTINF")
    assert row["duration"] == 2.0 * text.count("#EXTINF")  # EXT-X-TARGETDURATION:2 each


def test_play_hears_every_second(hls_server: MediaServer, tmp_path: Path) -> None:
    hls_server.add_route("ts/minus.m3u8", static(_unknown_lengths(hls_server)))
    wav = tmp_path / "out.wav"
    proc = play(hls_server.url("ts/minus.m3u8"), "--output", f"wav:{wav}")
    assert proc.returncode == 0, proc.stderr
    assert tone_seconds(decode(wav)) == list(range(int(hls_fixtures.SECONDS)))


def test_a_station_list_is_still_a_station_list(hls_server: MediaServer) -> None:
    """``#EXTINF:-1,Name`` before stream URLs, no HLS tag: the station-link reader's. Before,
    ``fetch --list`` of an ``.m3u`` URL went to the HLS reader (``fetch`` and ``play`` read
    the body first): "bad #EXTINF duration -1.0"."""
    body = "#EXTM3U\n#EXTINF:-1,Radio One\nhttp://127.0.0.1:9/one.mp3\n"
    hls_server.add_route("radio.m3u", static(body, "audio/x-mpegurl"))
    proc = fetch("--list", "--json", hls_server.url("radio.m3u"))
    assert proc.returncode == 0, proc.stderr
    listing = json.loads(proc.stdout)
    assert listing["kind"] == "m3u"
    assert [e["title"] for e in listing["entries"]] == ["Radio One"]


def test_a_station_list_read_as_hls_says_what_it_is(hls_server: MediaServer) -> None:
    """Named .m3u8, it goes to the HLS reader: one line that names the list, not a number."""
    body = "#EXTM3U\n#EXTINF:-1,Radio One\nhttp://127.0.0.1:9/one.mp3\n"
    hls_server.add_route("radio.m3u8", static(body))
    proc = fetch("--list", "-q", hls_server.url("radio.m3u8"))
    assert proc.returncode == 5
    assert_one_line_error(proc, "#EXTINF:-1", "a plain M3U list, not HLS")


def _lower(server: MediaServer, header: str) -> str:
    text = (server.root / "ts" / "64k.m3u8").read_text()
    lines = [line.lower() if line.startswith("#") else line for line in text.splitlines()]
    lines[0] = header
    return "\n".join(lines) + "\n"


def test_lower_case_tags_are_refused_saying_why(hls_server: MediaServer, tmp_path: Path) -> None:
    hls_server.add_route("ts/lower.m3u8", static(_lower(hls_server, "#EXTM3U")))
    out = tmp_path / "out.ts"
    proc = fetch(hls_server.url("ts/lower.m3u8"), "--out", str(out), "-q")
    assert proc.returncode == 5
    assert_one_line_error(proc, "lower case", "'#ext-x-version'", "HLS tags are upper case")
    assert not out.exists()


def test_a_lower_case_header_is_refused_saying_why(hls_server: MediaServer) -> None:
    """(``play`` reads such a body as an M3U list of files, one entry per URI line, as mpv
    does: that is the station-link reader's, unchanged.)"""
    hls_server.add_route("ts/lower.m3u8", static(_lower(hls_server, "#extm3u")))
    proc = fetch("--list", "-q", hls_server.url("ts/lower.m3u8"))
    assert proc.returncode == 5, proc.stderr
    assert_one_line_error(proc, "'#extm3u' in lower case")
