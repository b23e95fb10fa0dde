"""Station links and ICY titles as others write them: Windows text, UTF-16, broken URLs.

Found by a user-level review of ``kithara play`` (session 10): a remote list naming a
malformed URL was an internal error (exit 1 and a crash log), a UTF-16 .pls was refused, and
Windows-1252 punctuation in a title was shown as escaped C1 controls.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import radio_fixtures
from conftest import play_null, run_cli
from kithara_cli.errors import PlaylistError
from kithara_cli.radio.icy import decode_text, parse_metadata
from kithara_cli.radio.links import link_kind, parse_link
from kithara_cli.server import MediaServer
from kithara_cli.server.radio import Station
from radio_fixtures import BITRATE, read_events

radio_root = radio_fixtures.radio_root
radio_mp3 = radio_fixtures.radio_mp3

BASE = "http://radio.example/lists/s.pls"
PLS = "[playlist]\r\nNumberOfEntries=1\r\nFile1=http://a/live\r\nTitle1=Caf\u00e9 \u201cNight\u201d\r\n"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_pls_is_read(encoding: str) -> None:
    """Notepad's "Unicode" .pls: UTF-16 with a BOM (``utf-16``) or without one."""
    data = PLS.encode(encoding)
    assert link_kind(data, "audio/x-scpls", "s.pls") == "pls"
    assert link_kind(data) == "pls"  # by content alone, as a link under a plain name
    entries = parse_link(data, "pls", BASE, remote=True)
    assert [(e.target, e.title) for e in entries] == [("http://a/live", "Café “Night”")]


def test_utf16_m3u_is_read() -> None:
    data = "#EXTM3U\r\n#EXTINF:-1,Zwei\r\nhttp://b/x\r\n".encode("utf-16")
    assert link_kind(data) == "m3u"
    assert [(e.target, e.title) for e in parse_link(data, "m3u", BASE, remote=True)] == [
        ("http://b/x", "Zwei")
    ]


def test_windows_1252_titles_keep_their_punctuation() -> None:
    """Curly quotes and dashes are 0x80-0x9F in Windows-1252: read as Latin-1 they became C1
    controls (shown escaped, ``\\x93``); UTF-8 and plain Latin-1 letters read as before."""
    entries = parse_link(PLS.encode("cp1252"), "pls", BASE, remote=True)
    assert entries[0].title == "Café “Night”"
    assert decode_text("Don’t – Stop".encode("cp1252")) == "Don’t – Stop"
    assert decode_text("Café".encode("latin-1")) == "Café"
    assert decode_text("Café ’".encode()) == "Café ’"
    assert decode_text(b"\x81\x8d") == "\x81\x8d"  # undefined in 1252: Latin-1's, escaped later
    title = b"StreamTitle='Don\x92t Stop';"
    assert parse_metadata(title)["StreamTitle"] == "Don’t Stop"


@pytest.mark.parametrize(
    "data",
    [
        b"[playlist]\nFile1=http://[::1/x.mp3\nFile2=http://ok/\n",
        b"[playlist]\nFile1=http://h/\x1b[31mred\x07\nFile2=http://ok/\n",
        b"#EXTM3U\nhttp://[::1/x.mp3\nhttp://ok/\n",
        b'<?xml version="1.0"?><playlist xmlns="http://xspf.org/ns/0/"><trackList>'
        b"<track><location>http://[::1/</location></track>"
        b"<track><location>http://ok/</location></track></trackList></playlist>",
    ],
)
def test_a_malformed_entry_is_skipped_not_a_crash(data: bytes) -> None:
    kind = link_kind(data)
    assert kind is not None
    assert [e.target for e in parse_link(data, kind, BASE, remote=True)] == ["http://ok/"]
    assert [e.target for e in parse_link(data, kind, "/tmp/s.pls", remote=False)] == ["http://ok/"]
    only_bad = data.replace(b"http://ok/", b"http://[::2")
    with pytest.raises(PlaylistError):
        parse_link(only_bad, kind, BASE, remote=True)


def test_play_a_remote_list_of_malformed_urls_is_one_line_exit_5(
    radio_root: Path, radio_mp3: bytes
) -> None:
    """Before: ``internal error (ValueError: Invalid IPv6 URL)``, exit 1, a crash log."""
    with MediaServer(radio_root) as srv:
        body = b"[playlist]\nNumberOfEntries=1\nFile1=http://[::1/live\n"
        srv.add_route("bad.pls", lambda _p, _q, _n: (200, {"Content-Type": "audio/x-scpls"}, body))
        r = run_cli("play", srv.url("bad.pls"), "--output", "null", "--no-ui", timeout=30)
    assert r.returncode == 5, r.stderr
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "no playable entry" in lines[0], lines
    assert "internal error" not in r.stderr and "Traceback" not in r.stderr


def test_play_a_utf16_pls_served_as_a_station(
    radio_root: Path, radio_mp3: bytes, tmp_path: Path
) -> None:
    with MediaServer(radio_root) as srv:
        srv.add_radio("live.mp3", Station(radio_mp3, BITRATE, pace=4))
        body = f"[playlist]\r\nFile1={srv.url('live.mp3')}\r\nTitle1=Caf\u00e9\r\n".encode("utf-16")
        srv.add_route("s.pls", lambda _p, _q, _n: (200, {"Content-Type": "audio/x-scpls"}, body))
        ev = tmp_path / "ev.jsonl"
        r = play_null(srv.url("s.pls"), ev)
    assert r.returncode == 0, r.stderr
    assert any(e["event"] == "PlaybackStarted" for e in read_events(ev))


def test_pls_without_its_section_header_is_read() -> None:
    """Some generators write only the ``FileN=`` lines (mpv and VLC read them)."""
    data = b"NumberOfEntries=1\nFile1=http://a/live\nTitle1=A\n"
    assert [(e.target, e.title) for e in parse_link(data, "pls", BASE, remote=True)] == [
        ("http://a/live", "A")
    ]


def test_a_broken_pls_is_one_short_line() -> None:
    with pytest.raises(PlaylistError) as info:
        parse_link(b"[playlist]\nFile1=http://a/\n[playlist\nx", "pls", BASE, remote=True)
    assert "\\n" not in str(info.value) and "\n" not in str(info.value), info.value
    assert str(info.value).startswith("bad .pls station link")
