"""Station links (.pls, .m3u, extended .m3u, .xspf): parsed safely, mirrors tried in order."""

from __future__ import annotations

from pathlib import Path

import pytest

import radio_fixtures
from conftest import play_null, run_cli
from kithara_cli.errors import PlaylistError
from kithara_cli.radio.links import link_kind, parse_link
from kithara_cli.server import MediaServer
from kithara_cli.server.radio import Station, link_text
from radio_fixtures import BITRATE, read_events

radio_root = radio_fixtures.radio_root
radio_mp3 = radio_fixtures.radio_mp3

BASE = "http://radio.example/lists/s.pls"


def test_pls_numbered_in_order_with_titles() -> None:
    data = b"[playlist]\nNumberOfEntries=2\nFile2=http://b/\nTitle2=B\nFile1=http://a/\nVersion=2\n"
    entries = parse_link(data, link_kind(data), BASE, remote=True)
    assert [(e.target, e.title) for e in entries] == [("http://a/", ""), ("http://b/", "B")]


def test_m3u_plain_and_extended_are_not_hls() -> None:
    ext = b"#EXTM3U\n#EXTINF:-1,Station One\nhttp://a/live\n#EXTINF:-1,Two\nrel/b.mp3\n"
    assert link_kind(ext) == "m3u"
    entries = parse_link(ext, "m3u", BASE, remote=True)
    assert [(e.target, e.title) for e in entries] == [
        ("http://a/live", "Station One"),
        ("http://radio.example/lists/rel/b.mp3", "Two"),
    ]
    assert link_kind(b"http://a/\nhttp://b/\n", "audio/x-mpegurl") == "m3u"
    assert link_kind(b"http://a/\n", None, "x.m3u") == "m3u"
    hls = b"#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\nseg.ts\n"
    assert link_kind(hls, "audio/x-mpegurl", "a.m3u8") is None


def test_xspf_parsed_and_dtd_refused() -> None:
    body, ctype = link_text("xspf", ["http://a/1", "http://b/2"], ["One", "Two & more"])
    data = body.encode()
    assert link_kind(data, ctype) == "xspf"
    assert [(e.target, e.title) for e in parse_link(data, "xspf", BASE, remote=True)] == [
        ("http://a/1", "One"),
        ("http://b/2", "Two & more"),
    ]
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<playlist xmlns="http://xspf.org/ns/0/"><trackList><track><location>&b;</location>'
        b"</track></trackList></playlist>"
    )
    with pytest.raises(PlaylistError, match="DOCTYPE"):
        parse_link(bomb, "xspf", BASE, remote=True)


def test_remote_list_names_only_http() -> None:
    data = b"file:///etc/passwd\n/etc/shadow\ndata:,x\nhttps://ok/\n"
    entries = parse_link(data, "m3u", BASE, remote=True)
    # file: and data: are dropped; a bare path is relative to the list's own URL.
    assert [e.target for e in entries] == ["http://radio.example/etc/shadow", "https://ok/"]
    with pytest.raises(PlaylistError):
        parse_link(b"file:///etc/passwd\n", "m3u", BASE, remote=True)


@pytest.mark.parametrize("kind", ["pls", "m3u", "extm3u", "xspf"])
def test_remote_link_falls_through_dead_mirror(
    radio_root: Path, radio_mp3: bytes, kind: str, tmp_path: Path
) -> None:
    with MediaServer(radio_root) as srv:
        route = srv.add_radio("live.mp3", Station(radio_mp3, BITRATE, pace=4))
        srv.add_link(f"s.{kind}", kind, [srv.url("dead.mp3"), srv.url("live.mp3")])
        ev = tmp_path / "ev.jsonl"
        r = play_null(srv.url(f"s.{kind}"), ev)
    assert r.returncode == 0, r.stderr
    assert "mirror 1 of 2 failed" in r.stderr and "404" in r.stderr
    assert route.connections == 1
    assert any(e["event"] == "PlaybackStarted" for e in read_events(ev))


def test_link_by_content_type_without_extension(radio_root: Path, radio_mp3: bytes) -> None:
    with MediaServer(radio_root) as srv:
        srv.add_radio("live.mp3", Station(radio_mp3, BITRATE, pace=4))
        body, ctype = link_text("pls", [srv.url("live.mp3")])
        srv.add_route("listen", lambda _p, _q, _n: (200, {"Content-Type": ctype}, body.encode()))
        r = run_cli(
            "play", srv.url("listen"), "--output", "null", "--length", "0.5", "--no-ui", timeout=30
        )
    assert r.returncode == 0, r.stderr
    assert "STATION" in r.stderr


@pytest.mark.parametrize("kind", ["pls", "m3u", "extm3u", "xspf"])
def test_local_link_plays_files_in_order_after_dead_entry(
    radio_root: Path, kind: str, tmp_path: Path
) -> None:
    """A local list of finite files: the dead first entry falls through, then both play."""
    short = str(radio_root / "short.mp3")
    body, _ = link_text(kind, [str(tmp_path / "gone.mp3"), short, "short.mp3"])
    suffix = {"extm3u": "m3u"}.get(kind, kind)
    link = radio_root / f"list-{kind}.{suffix}"
    link.write_text(body)
    ev = tmp_path / "ev.jsonl"
    r = run_cli(
        "play",
        str(link),
        "--output",
        f"wav:{tmp_path / 'o.wav'}",
        "--no-ui",
        "--events",
        str(ev),
        timeout=40,
    )
    assert r.returncode == 0, r.stderr
    events = read_events(ev)
    assert [e["index"] for e in events if e["event"] == "QueueAdvanced"] == [0, 1, 2]
    assert sum(e["event"] == "EndOfStream" for e in events) == 2


def test_refused_mirror_falls_through_fast(radio_root: Path, radio_mp3: bytes) -> None:
    """A mirror that refuses connections gets two tries, not the retry policy's six."""
    import socket
    import time

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/live.mp3"
    with MediaServer(radio_root) as srv:
        srv.add_radio("live.mp3", Station(radio_mp3, BITRATE, pace=4))
        srv.add_link("s.pls", "pls", [dead, srv.url("live.mp3")])
        started = time.monotonic()
        r = run_cli(
            "play", srv.url("s.pls"), "--output", "null", "--length", "0.3", "--no-ui", timeout=30
        )
        took = time.monotonic() - started
    assert r.returncode == 0, r.stderr
    assert "mirror 1 of 2 failed" in r.stderr
    assert took < 4.0  # six tries with backoff took 7.9 s


@pytest.mark.parametrize("kind", ["pls", "extm3u", "xspf"])
def test_fetch_of_a_link_served_under_a_plain_name_saves_its_entry(
    radio_mp3: bytes, kind: str, tmp_path: Path
) -> None:
    """``/listen`` answering with a station link's Content-Type: fetch saves what the link
    names, as play plays it (it saved the link's own text, exit 0, before)."""
    root = tmp_path / "root"
    root.mkdir()
    (root / "song.mp3").write_bytes(radio_mp3)
    out = tmp_path / "out" / "saved.mp3"
    out.parent.mkdir()
    with MediaServer(root) as srv:
        body, ctype = link_text(kind, [srv.url("gone.mp3"), srv.url("song.mp3")])
        srv.add_route("listen", lambda _p, _q, _n: (200, {"Content-Type": ctype}, body.encode()))
        r = run_cli("fetch", srv.url("listen"), "--out", str(out), "-q", timeout=30)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == radio_mp3
    assert sorted(p.name for p in out.parent.iterdir()) == ["saved.mp3"]  # no .part, no state
