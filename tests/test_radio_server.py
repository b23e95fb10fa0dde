"""The loopback radio routes: ICY blocks, titles, the ICY status line, cuts, station links."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx
import pytest

import radio_fixtures
from kithara_cli.radio.icy import IcyDemux
from kithara_cli.server import MediaServer
from kithara_cli.server.radio import Station
from radio_fixtures import BITRATE

radio_root = radio_fixtures.radio_root
radio_mp3 = radio_fixtures.radio_mp3


def _get_raw(port: int, path: str, headers: str = "", limit: int = 1 << 30) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(f"GET /{path} HTTP/1.1\r\nHost: x\r\n{headers}\r\n".encode())
        out = bytearray()
        while len(out) < limit:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            out += data
        return bytes(out)


def _split(raw: bytes) -> tuple[bytes, bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    return head, body


def test_blocks_follow_every_metaint_and_titles_change(radio_root: Path, radio_mp3: bytes) -> None:
    station = Station(
        radio_mp3,
        BITRATE,
        pace=0,
        metaint=1000,
        titles=["One", b"Caf\xe9 latin-1", ""],
        title_every=3000,
        live_edge=False,
        drop_after_bytes=20_000,
    )
    with MediaServer(radio_root) as srv:
        srv.add_radio("live.mp3", station)
        head, body = _split(_get_raw(srv.port, "live.mp3", "Icy-MetaData: 1\r\n"))
        assert b"icy-metaint: 1000" in head.lower()
        assert b"content-length" not in head.lower()
        assert b"icy-name: Kithara Test Radio" in head
        demux = IcyDemux(1000)
        audio, titles = demux.feed(body)
        # The audio is the file's bytes in order, the blocks gone.
        assert audio == radio_mp3[: len(audio)]
        assert len(body) - len(audio) >= len(audio) // 1000  # one block (or zero byte) each
        changes = [(t.offset, t.title) for t in titles]
        assert changes[:4] == [(1000, "One"), (3000, "Café latin-1"), (6000, ""), (9000, "One")]
        # Without the request header: pure audio, no metaint.
        head, body = _split(_get_raw(srv.port, "live.mp3"))
        assert b"icy-metaint" not in head.lower()
        assert body == radio_mp3[: len(body)]


def test_icy_status_line_and_live_edge(radio_root: Path, radio_mp3: bytes) -> None:
    station = Station(radio_mp3, BITRATE, pace=4, icy_status=True, drop_after_seconds=0.3)
    with MediaServer(radio_root) as srv:
        srv.add_radio("icy.mp3", station)
        raw = _get_raw(srv.port, "icy.mp3")
        assert raw.startswith(b"ICY 200 OK\r\n")
        time.sleep(0.5)
        _, body = _split(_get_raw(srv.port, "icy.mp3"))
        # Joined at the live edge: about 0.8 s of a 4x broadcast in, not at byte 0.
        assert body[:64] != radio_mp3[:64]
        assert radio_mp3.find(body[:64]) > 0


@pytest.mark.parametrize("reset", [False, True])
def test_cut_after_bytes_then_refused(radio_root: Path, radio_mp3: bytes, reset: bool) -> None:
    station = Station(
        radio_mp3,
        BITRATE,
        pace=0,
        drop_after_bytes=50_000,
        drop_reset=reset,
        drop_times=1,
        refuse_after_drop=1,
    )
    with MediaServer(radio_root) as srv:
        srv.add_radio("cut.mp3", station)
        _, body = _split(_get_raw(srv.port, "cut.mp3"))
        assert len(body) == 50_000 if not reset else len(body) <= 50_000
        assert _get_raw(srv.port, "cut.mp3").startswith(b"HTTP/1.1 503")
        _, body = _split(_get_raw(srv.port, "cut.mp3", limit=200_000))
        assert len(body) > 50_000  # the next connection is not cut


def test_station_links(radio_root: Path) -> None:
    urls = ["http://127.0.0.1:9/dead.mp3", "http://127.0.0.1:9/live.mp3"]
    with MediaServer(radio_root) as srv:
        for kind in ("pls", "m3u", "extm3u", "xspf"):
            srv.add_link(f"s.{kind}", kind, urls, ["Dead", "Live"])
        r = httpx.get(srv.url("s.pls"))
        assert r.headers["content-type"] == "audio/x-scpls"
        assert "File1=http://127.0.0.1:9/dead.mp3" in r.text and "NumberOfEntries=2" in r.text
        r = httpx.get(srv.url("s.extm3u"))
        assert r.headers["content-type"] == "audio/x-mpegurl"
        assert r.text.startswith("#EXTM3U\n#EXTINF:-1,Dead\n")
        r = httpx.get(srv.url("s.xspf"))
        assert r.headers["content-type"] == "application/xspf+xml"
        assert "<location>http://127.0.0.1:9/live.mp3</location>" in r.text
