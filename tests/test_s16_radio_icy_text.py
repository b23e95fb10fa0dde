"""ICY text as real stations send it: repeated blocks, StreamUrl-only blocks, 8-bit icy-name.

- SHOUTcast DNAS and many relays send the same metadata block again every few seconds.
  Before, each one was a title change: ``TITLE  Same Song`` every 0.5 s in the log and the
  dashboard's events. Now a block is news only when it changes the title.
- A block with only ``StreamUrl='...'`` (an ad's or a cover's link) cleared the title
  ("(no title)"); mpv keeps the title shown, and so does kithara now. ``StreamTitle=''``
  still clears it (mpv shows an empty icy-title too).
- ``icy-name`` comes in the source's own encoding. A Windows-1251 name was shown as
  Latin-1 mojibake ("Ðóññêîå Ðàäèî") and a Windows-1252 one with escaped C1 controls
  (``\\x93Café\\x94``); they are read as titles are now (UTF-8, else 1251 Cyrillic, else 1252).
"""

from __future__ import annotations

import pytest

import radio_fixtures
from conftest import run_cli
from kithara_cli.radio.icy import IcyDemux, station_info
from radio_fixtures import ICECAST_OK, SHOUTCAST_OK, RawStation

radio_root = radio_fixtures.radio_root
radio_mp3 = radio_fixtures.radio_mp3

ENV = {"KITHARA_AUDIO_DEVICE": "none", "KITHARA_CACHE": "off"}
HALF_SECOND = 8000  # bytes of the 128 kbit/s tone: a block every half second


def _log(proc_stderr: str, kind: str) -> list[str]:
    """The text of each ``kithara: HH:MM:SS KIND  text`` line of that kind."""
    out = []
    for line in proc_stderr.splitlines():
        parts = line.split(None, 3)
        if len(parts) == 4 and parts[0] == "kithara:" and parts[2] == kind:
            out.append(parts[3])
    return out


def _play(url: str, length: str = "3") -> tuple[int, str]:
    proc = run_cli(
        "play", url, "--output", "null", "--no-ui", "--length", length, env=ENV, timeout=60
    )
    assert "Traceback" not in proc.stderr
    return proc.returncode, proc.stderr


@pytest.mark.parametrize("ok", [SHOUTCAST_OK, ICECAST_OK], ids=["shoutcast", "icecast"])
def test_a_block_repeated_every_interval_is_one_title(radio_mp3: bytes, ok: bytes) -> None:
    with RawStation(radio_mp3, ok=ok, metaint=HALF_SECOND, titles=(b"Same Song",)) as station:
        code, stderr = _play(station.url())
    assert code == 0, stderr
    assert _log(stderr, "TITLE") == ["Same Song"], stderr


def test_a_streamurl_only_block_keeps_the_title(radio_mp3: bytes) -> None:
    blocks = (
        b"StreamTitle='Song A';StreamUrl='';",
        b"StreamUrl='http://ads.example/1';",
        b"StreamTitle='';",
        b"StreamTitle='Song B';",
    )
    with RawStation(radio_mp3, metaint=HALF_SECOND, blocks=blocks) as station:
        code, stderr = _play(station.url(), "3.5")
    assert code == 0, stderr
    titles = _log(stderr, "TITLE")
    assert titles[:3] == ["Song A", "(no title)", "Song B"], stderr


def test_a_reconnect_does_not_announce_the_same_title_again(radio_mp3: bytes) -> None:
    """A relay that drops listeners: the new connection's first block repeats the title."""
    with RawStation(
        radio_mp3, metaint=HALF_SECOND, titles=(b"Steady",), drop_after=3 * 16_000
    ) as station:
        code, stderr = _play(station.url(), "5")
    assert code == 0, stderr
    assert len(_log(stderr, "GAP")) >= 1, stderr  # it did reconnect
    assert _log(stderr, "TITLE") == ["Steady"], stderr


def test_a_byte_order_mark_in_a_block_is_not_shown(radio_mp3: bytes) -> None:
    """DJ software that reads a UTF-8 "now playing" file sends its BOM along: before the
    title (shown as ``\\ufeff`` or, before Latin-1 text, "ï»¿"), or before the block (the
    StreamTitle key not recognised: no title at all)."""
    bom = b"\xef\xbb\xbf"
    blocks = (
        b"StreamTitle='" + bom + b"Artist - Song';",
        b"StreamTitle='" + bom + b"K\xfcnstler - Lied';",
        bom + b"StreamTitle='Third - Track';",
    )
    with RawStation(radio_mp3, metaint=HALF_SECOND, blocks=blocks) as station:
        code, stderr = _play(station.url(), "2")
    assert code == 0, stderr
    titles = _log(stderr, "TITLE")
    assert titles[:3] == ["Artist - Song", "Künstler - Lied", "Third - Track"], stderr


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("Русское Радио".encode("cp1251"), "Русское Радио"),
        (b"Radio \x93Caf\xe9\x94 \x96 Paris", "Radio “Café” – Paris"),
        ("Радио Jazz ♫".encode(), "Радио Jazz ♫"),
    ],
    ids=["cp1251", "cp1252", "utf-8"],
)
def test_an_8bit_icy_name_is_read_as_titles_are(radio_mp3: bytes, raw: bytes, shown: str) -> None:
    ok = b"HTTP/1.0 200 OK\r\nContent-Type: audio/mpeg\r\nicy-br:128\r\nicy-name:" + raw + b"\r\n"
    with RawStation(radio_mp3, ok=ok) as station:
        code, stderr = _play(station.url(), "1")
    assert code == 0, stderr
    assert _log(stderr, "STATION") == [f"{shown} (128 kbit/s)"], stderr


def test_demux_keeps_state_across_chunks_and_reconnects() -> None:
    def block(text: bytes) -> bytes:
        size = -(-len(text) // 16)
        return bytes([size]) + text.ljust(size * 16, b"\0")

    body = b"a" * 4 + block(b"StreamTitle='X';") + b"b" * 4 + block(b"StreamTitle='X';")
    body += b"c" * 4 + block(b"StreamUrl='u';") + b"d" * 4 + block(b"StreamTitle='Y';")
    demux = IcyDemux(4)
    found = []
    for i in range(len(body)):  # one byte at a time: blocks straddle every read
        found += demux.feed(body[i : i + 1])[1]
    assert [(t.offset, t.title, t.url) for t in found] == [(4, "X", ""), (16, "Y", "")]
    again = IcyDemux(4, demux.title, demux.url)  # a reconnect's
    assert again.feed(b"e" * 4 + block(b"StreamTitle='Y';"))[1] == []
    assert station_info({"icy-name": "Радио"}).name == "Радио"  # text already: as it is
