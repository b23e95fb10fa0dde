"""Podcast feeds: ``kithara play FEED`` plays its episodes, ``kithara fetch FEED`` the newest.

Found in session 14: a podcast is shared as its feed's URL (RSS 2.0, sometimes Atom), and
kithara, a tool for people who stream podcasts from the terminal, answered one with "not
audio" (a feed served as application/rss+xml) or a decoder error. mpv and ffplay refuse feeds
too; yt-dlp reads the enclosures. Now a feed is read like a station link (``radio.feeds``):
its audio enclosures, newest first by date, play as a queue; ``fetch`` saves the newest one
(an older episode is another file, never a mirror of it). A remote feed may only name http(s)
episodes; a DOCTYPE is refused; network text is neutralised on the way to the terminal.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from audio_capture import alsa_no_device
from conftest import run_cli
from kithara_cli.errors import PlaylistError
from kithara_cli.media.encode import encode_file
from kithara_cli.radio.feeds import parse_feed
from kithara_cli.radio.links import link_kind, parse_link
from kithara_cli.server import Faults, MediaServer

ENV = {"KITHARA_AUDIO_DEVICE": "none", "KITHARA_CACHE": "off"}


def rss(items: list[tuple[str, str, str, str]], padding: int = 0) -> bytes:
    """An RSS 2.0 podcast feed: (title, enclosure URL, type, pubDate) per item."""
    notes = "x" * padding
    body = "".join(
        f"<item><title>{t}</title><description>{notes}</description>"
        f'<enclosure url="{u}" length="1" type="{k}"/><pubDate>{d}</pubDate></item>'
        for t, u, k, d in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">'
        f"<channel><title>Show</title>{body}</channel></rss>"
    ).encode()


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("feed")
    encode_file(root / "ep1.mp3", 0.6, "mp3")
    encode_file(root / "ep2.mp3", 0.8, "mp3", rate=48000)
    return root


def _serve_feed(srv: MediaServer, path: str, body: bytes, content_type: str) -> str:
    srv.add_route(path, lambda _p, _q, _now: (200, {"Content-Type": content_type}, body))
    return srv.url(path)


def test_episodes_come_newest_first_and_only_audio() -> None:
    feed = rss(
        [
            ("Old", "http://h/old.mp3", "audio/mpeg", "Mon, 01 Jan 2024 10:00:00 GMT"),
            ("Video", "http://h/v.mp4", "video/mp4", "Tue, 05 Mar 2024 10:00:00 GMT"),
            ("New", "http://h/new.m4a", "audio/x-m4a", "Tue, 05 Mar 2024 09:00:00 +0000"),
            ("Untyped", "http://h/mid.mp3?sig=1", "", "Fri, 02 Feb 2024 10:00:00 GMT"),
        ]
    )
    assert link_kind(feed[:4096]) == "feed"
    assert parse_feed(feed) == [
        ("http://h/new.m4a", "New"),
        ("http://h/mid.mp3?sig=1", "Untyped"),
        ("http://h/old.mp3", "Old"),
    ]


def test_atom_and_media_rss_and_undated_feeds() -> None:
    atom = (
        b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>S</title>'
        b'<entry><title>A1</title><link rel="alternate" href="http://h/page"/>'
        b'<link rel="enclosure" type="audio/mpeg" href="http://h/a1.mp3"/>'
        b"<updated>2024-01-01T00:00:00Z</updated></entry>"
        b'<entry><title>A2</title><link rel="enclosure" type="audio/mpeg" href="a2.mp3"/>'
        b"<updated>2024-02-01T00:00:00Z</updated></entry></feed>"
    )
    assert link_kind(atom) == "feed"
    entries = parse_link(atom, "feed", "http://h/feeds/show.atom", remote=True)
    assert [e.target for e in entries] == ["http://h/feeds/a2.mp3", "http://h/a1.mp3"]
    media_rss = (
        b'<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>'
        b'<item><title>M</title><media:content url="http://h/m.ogg" type="audio/ogg"/></item>'
        b'<item><title>N</title><enclosure url="http://h/n.mp3" type="audio/mpeg"/></item>'
        b"</channel></rss>"
    )
    # no dates: the feed's own order
    assert parse_feed(media_rss) == [("http://h/m.ogg", "M"), ("http://h/n.mp3", "N")]
    # an XSPF playlist is still XSPF
    xspf = b'<?xml version="1.0"?><playlist xmlns="http://xspf.org/ns/0/"><trackList/></playlist>'
    assert link_kind(xspf) == "xspf"


def test_a_remote_feed_names_only_http_episodes_and_no_dtd() -> None:
    feed = rss(
        [
            ("Local", "file:///etc/passwd", "audio/mpeg", "Tue, 05 Mar 2024 10:00:00 GMT"),
            ("Path", "/home/u/x.mp3", "audio/mpeg", "Mon, 04 Mar 2024 10:00:00 GMT"),
        ]
    )
    entries = parse_link(feed, "feed", "http://h/feed.xml", remote=True)
    assert [e.target for e in entries] == ["http://h/home/u/x.mp3"]  # relative to the feed
    with pytest.raises(PlaylistError, match="DOCTYPE"):
        parse_link(b'<!DOCTYPE rss [<!ENTITY a "b">]><rss>&a;</rss>', "feed", "u", remote=True)
    with pytest.raises(PlaylistError, match="no audio episode"):
        parse_link(rss([("V", "http://h/v.mp4", "video/mp4", "")]), "feed", "u", remote=True)


def test_play_a_feed_plays_its_episodes_newest_first(media: Path, tmp_path: Path) -> None:
    """Served as text/xml with a megabyte of show notes (above a station link's cap)."""
    with MediaServer(media) as srv:
        feed = rss(
            [
                (
                    "Ep 1 \u202egnp.exe",
                    srv.url("ep1.mp3"),
                    "audio/mpeg",
                    "Mon, 01 Jan 2024 10:00:00 GMT",
                ),
                ("Ep 2", srv.url("ep2.mp3"), "audio/mpeg", "Mon, 08 Jan 2024 10:00:00 GMT"),
            ],
            padding=700_000,
        )
        assert len(feed) > 1 << 20
        url = _serve_feed(srv, "podcast/feed", feed, "text/xml; charset=utf-8")
        events = tmp_path / "ev.jsonl"
        # no sound card: said once for the run, not once for each episode
        env = {**alsa_no_device(tmp_path), "KITHARA_CACHE": "off"}
        proc = run_cli("play", url, "--no-ui", "--events", str(events), env=env, timeout=60)
        assert proc.returncode == 0, proc.stderr
        played = [s.path for s in srv.stats.requests() if s.path.endswith(".mp3")]
    assert played and played[0] == "ep2.mp3" and played[-1] == "ep1.mp3"
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    queue = [e for e in lines if e["event"] == "QueueAdvanced"]
    assert [(e["index"], e["length"]) for e in queue] == [(0, 2), (1, 2)]
    assert sum(e["event"] == "EndOfStream" for e in lines) == 2
    assert proc.stderr.count("no audio output device found") == 1
    assert "\u202e" not in proc.stderr  # (XML 1.0 has no escape codes: a bidi override)


def test_fetch_a_feed_saves_the_newest_episode(media: Path, tmp_path: Path) -> None:
    out = tmp_path / "newest.mp3"
    with MediaServer(media) as srv:
        feed = rss(
            [
                ("First", srv.url("ep1.mp3"), "audio/mpeg", "Mon, 01 Jan 2024 10:00:00 GMT"),
                ("Second", srv.url("ep2.mp3"), "audio/mpeg", "Mon, 08 Jan 2024 10:00:00 GMT"),
            ]
        )
        url = _serve_feed(srv, "feed.rss", feed, "application/rss+xml")
        proc = run_cli("fetch", url, "--out", str(out), env=ENV, timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert out.read_bytes() == (media / "ep2.mp3").read_bytes()
        assert 'podcast feed of 2 episodes: saving the newest, "Second"' in proc.stderr
        # the newest missing is an error, never an older episode saved under its name
        srv.set_faults("ep2.mp3", Faults(fail_first=99, fail_status=404))
        gone = tmp_path / "gone.mp3"
        proc = run_cli("fetch", url, "--out", str(gone), "--retries", "0", env=ENV, timeout=60)
        assert proc.returncode != 0 and not gone.exists()
        assert "404" in proc.stderr


def test_fetch_a_feed_served_as_plain_xml_and_an_xml_file_that_is_no_feed(
    media: Path, tmp_path: Path
) -> None:
    """Many feeds are served as text/xml or application/xml (and weigh megabytes): read as a
    feed; an XML document that is no feed is saved as the file it is, as before."""
    with MediaServer(media) as srv:
        feed = rss(
            [("Only", srv.url("ep1.mp3"), "audio/mpeg", "Mon, 01 Jan 2024 10:00:00 GMT")],
            padding=1_500_000,
        )
        url = _serve_feed(srv, "show", feed, "application/xml")
        out = tmp_path / "ep.mp3"
        proc = run_cli("fetch", url, "--out", str(out), env=ENV, timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert out.read_bytes() == (media / "ep1.mp3").read_bytes()
        doc = b'<?xml version="1.0"?><config><item>not a feed</item></config>\n'
        url = _serve_feed(srv, "config.xml", doc, "text/xml")
        saved = tmp_path / "config.xml"
        proc = run_cli("fetch", url, "--out", str(saved), env=ENV, timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert saved.read_bytes() == doc


def test_fetch_list_prints_a_feeds_episodes_and_refuses_audio(media: Path) -> None:
    """``fetch --list`` was the HLS ladder only: a feed or an MP3 ended in "playlist is not
    UTF-8 (byte 45)". Now a feed's (or a link's) entries, and one plain line for audio."""
    with MediaServer(media) as srv:
        feed = rss(
            [
                ("First", srv.url("ep1.mp3"), "audio/mpeg", "Mon, 01 Jan 2024 10:00:00 GMT"),
                ("Second", srv.url("ep2.mp3"), "audio/mpeg", "Mon, 08 Jan 2024 10:00:00 GMT"),
            ]
        )
        url = _serve_feed(srv, "feed", feed, "application/rss+xml").replace(
            "http://", "http://bob:s3cret@", 1
        )
        table = run_cli("fetch", "--list", url, env=ENV)
        assert table.returncode == 0, table.stderr
        assert table.stdout.index("Second") < table.stdout.index("First")
        assert "podcast feed: 2 entries" in table.stdout
        listed = run_cli("fetch", "--list", "--json", url, env=ENV)
        assert listed.returncode == 0, listed.stderr
        data = json.loads(listed.stdout)
        assert data["kind"] == "feed" and "s3cret" not in listed.stdout
        assert [(e["index"], e["title"]) for e in data["entries"]] == [(1, "Second"), (2, "First")]
        assert data["entries"][0]["url"] == srv.url("ep2.mp3")
        srv.add_link("radio.pls", "pls", [srv.url("ep1.mp3")], ["Station"])
        pls = run_cli("fetch", "--list", "--json", srv.url("radio.pls"), env=ENV)
        assert pls.returncode == 0, pls.stderr
        assert json.loads(pls.stdout)["kind"] == "pls"
        audio = run_cli("fetch", "--list", srv.url("ep1.mp3"), env=ENV)
        assert audio.returncode == PlaylistError.exit_code
        assert audio.stderr.strip().endswith(
            f"--list: not an HLS playlist, a station link or a podcast feed: {srv.url('ep1.mp3')}"
        )
        assert len(audio.stderr.strip().splitlines()) == 1


def test_the_dashboard_names_the_episode_and_its_place_in_the_queue(media: Path) -> None:
    """Each queue item's header said its URL, and "[2/5]" never showed: the queue's news was
    published before the dashboard subscribed. Now "[1/2] Second" (the feed's title)."""
    import re

    from pty_run import read_until_exit, spawn_on_pty

    with MediaServer(media) as srv:
        feed = rss(
            [
                ("First", srv.url("ep1.mp3"), "audio/mpeg", "Mon, 01 Jan 2024 10:00:00 GMT"),
                ("Second", srv.url("ep2.mp3"), "audio/mpeg", "Mon, 08 Jan 2024 10:00:00 GMT"),
            ]
        )
        url = _serve_feed(srv, "feed", feed, "application/rss+xml")
        env = {**os.environ, **ENV, "NO_COLOR": "1"}
        proc, master = spawn_on_pty(["play", url], cols=100, rows=30, env=env)
        raw = read_until_exit(proc, master, 60)
    assert proc.wait(10) == 0
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", raw.decode("utf-8", "replace"))
    assert "[1/2] Second" in screen and "[2/2] First" in screen, screen[-2000:]
