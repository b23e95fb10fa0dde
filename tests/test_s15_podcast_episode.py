"""``--episode``: one episode of a podcast feed, for ``play`` and ``fetch``.

Found in session 15: ``kithara play FEED`` played the whole archive newest first and
``kithara fetch FEED`` saved only the newest; a listener who wanted last week's episode had
no way to ask (yt-dlp has ``--playlist-items``, mpv ``--playlist-start``). Now
``--episode N`` (as ``fetch --list`` numbers them: 1 the newest, -1 the oldest) or
``--episode TEXT`` (in the title, case folded, the newest match) picks one; none such is one
line and exit 2, with nothing written. Anything that is no feed ignores it, with a note.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import assert_clean_failure, run_cli
from kithara_cli.errors import UsageError
from kithara_cli.media.encode import encode_file
from kithara_cli.radio.feeds import pick_episode
from kithara_cli.server import MediaServer

ENV = {"KITHARA_AUDIO_DEVICE": "none", "KITHARA_CACHE": "off"}
TITLES = ["Ep 3: Interview with Ada", "Ep 2: News", "Ep 1: Pilot"]  # newest first


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("episodes")
    for n, seconds in ((1, 0.4), (2, 0.5), (3, 0.6)):
        encode_file(root / f"ep{n}.mp3", seconds, "mp3")
    return root


def _feed(srv: MediaServer, path: str = "feed.rss") -> str:
    dates = {1: "Mon, 01 Jan 2024", 2: "Mon, 08 Jan 2024", 3: "Mon, 15 Jan 2024"}
    items = "".join(
        f"<item><title>{TITLES[3 - n]}</title>"
        f'<enclosure url="{srv.url(f"ep{n}.mp3")}" length="1" type="audio/mpeg"/>'
        f"<pubDate>{dates[n]} 10:00:00 GMT</pubDate></item>"
        for n in (2, 1, 3)  # not in date order: the dates decide
    )
    body = f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>'.encode()
    srv.add_route(path, lambda _p, _q, _now: (200, {"Content-Type": "application/rss+xml"}, body))
    return srv.url(path)


def test_pick_episode_by_number_and_by_title() -> None:
    assert pick_episode(TITLES, "1") == 0
    assert pick_episode(TITLES, " 2 ") == 1
    assert pick_episode(TITLES, "-1") == 2
    assert pick_episode(TITLES, "+3") == 2
    assert pick_episode(TITLES, "ada") == 0
    assert pick_episode(TITLES, "EP  1") == 2  # case and spaces folded
    assert pick_episode(TITLES, "Ep") == 0  # several match: the newest
    for bad in ("0", "4", "-4", "99999999999999", "nothing", ""):
        with pytest.raises(UsageError):
            pick_episode(TITLES, bad)


def test_fetch_saves_the_episode_asked_for(media: Path, tmp_path: Path) -> None:
    with MediaServer(media) as srv:
        url = _feed(srv)
        for choice, expected, title in (
            ("2", "ep2.mp3", TITLES[1]),
            ("-1", "ep1.mp3", TITLES[2]),
            ("interview", "ep3.mp3", TITLES[0]),
        ):
            out = tmp_path / f"pick{choice}.mp3"
            proc = run_cli("fetch", url, "--episode", choice, "-o", str(out), env=ENV, timeout=60)
            assert proc.returncode == 0, proc.stderr
            assert out.read_bytes() == (media / expected).read_bytes(), choice
            n = TITLES.index(title) + 1
            assert f'podcast feed of 3 episodes: saving episode {n}, "{title}"' in proc.stderr
        fetched = [s.path for s in srv.stats.requests() if s.path.endswith(".mp3")]
    assert set(fetched) == {"ep1.mp3", "ep2.mp3", "ep3.mp3"}


def test_no_such_episode_is_one_line_and_exit_2(media: Path, tmp_path: Path) -> None:
    out = tmp_path / "none.mp3"
    with MediaServer(media) as srv:
        url = _feed(srv)
        far = run_cli("fetch", url, "--episode", "4", "-o", str(out), env=ENV, timeout=60)
        assert_clean_failure(far, out, UsageError.exit_code)
        assert "--episode 4: the feed has 3 episodes" in far.stderr
        missing = run_cli("fetch", url, "--episode", "bonus", "-o", str(out), env=ENV)
        assert_clean_failure(missing, out, UsageError.exit_code)
        assert "no title of the feed's 3 episodes holds it" in missing.stderr
        proc = run_cli(
            "play", url, "--episode", "-9", "--output", "null", "--no-ui", env=ENV, timeout=60
        )
        assert proc.returncode == UsageError.exit_code, proc.stderr
        assert proc.stderr.strip().splitlines()[-1].startswith("kithara: error: --episode -9")
        assert "Traceback" not in proc.stderr
        assert not [s for s in srv.stats.requests() if s.path.endswith(".mp3")]  # none played


def test_fetch_list_shows_the_episode_it_would_take(media: Path) -> None:
    with MediaServer(media) as srv:
        url = _feed(srv)
        proc = run_cli("fetch", "--list", "--json", "--episode", "news", url, env=ENV)
        assert proc.returncode == 0, proc.stderr
        data = json.loads(proc.stdout)
        assert data["entries"] == [{"index": 2, "title": TITLES[1], "url": srv.url("ep2.mp3")}]
        table = run_cli("fetch", "--list", "--episode", "-1", url, env=ENV)
        assert table.returncode == 0, table.stderr
        assert TITLES[2] in table.stdout and TITLES[0] not in table.stdout
        assert "podcast feed: 3 entries" in table.stdout


def test_play_plays_only_the_episode_asked_for(media: Path, tmp_path: Path) -> None:
    events = tmp_path / "ev.jsonl"
    with MediaServer(media) as srv:
        url = _feed(srv)
        proc = run_cli(
            "play",
            url,
            "--episode",
            "news",
            "--output",
            "null",
            "--no-ui",
            "--events",
            str(events),
            env=ENV,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        played = {s.path for s in srv.stats.requests() if s.path.endswith(".mp3")}
    assert played == {"ep2.mp3"}
    assert f'podcast feed of 3 episodes: playing episode 2, "{TITLES[1]}"' in proc.stderr
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    assert sum(e["event"] == "EndOfStream" for e in lines) == 1
    tracks = [e for e in lines if e["event"] == "TrackInfo"]
    assert [t["title"] for t in tracks] == [TITLES[1]]


def test_each_feed_of_a_queue_gives_its_episode_and_a_file_plays_whole(
    media: Path, tmp_path: Path
) -> None:
    """``play FEED_A FEED_B --episode 1``: the newest of each show. A target that is no feed
    ignores the option, and says so (yt-dlp's ``--playlist-items`` on one video: the video)."""
    with MediaServer(media) as srv:
        a, b = _feed(srv, "a.rss"), _feed(srv, "b.rss")
        file = srv.url("ep1.mp3")
        proc = run_cli(
            "play", a, file, b, "--episode", "1", "--output", "null", "--no-ui", env=ENV,
            timeout=90,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        played = [s.path for s in srv.stats.requests() if s.path.endswith(".mp3")]
        assert set(played) == {"ep3.mp3", "ep1.mp3"}
        assert f"--episode: {file} is not a podcast feed: played whole" in proc.stderr
        out = tmp_path / "whole.mp3"
        saved = run_cli("fetch", file, "--episode", "2", "-o", str(out), env=ENV, timeout=60)
        assert saved.returncode == 0, saved.stderr
        assert out.read_bytes() == (media / "ep1.mp3").read_bytes()
        assert "--episode: not a podcast feed but a file: ignored" in saved.stderr


def test_a_long_archive_is_counted_whole() -> None:
    """A daily show's feed lists thousands of episodes: every link was cut at 1000 entries,
    so ``--episode -1`` was not the oldest and ``fetch --list`` said "1000 entries"."""
    from kithara_cli.radio.links import parse_link

    items = "".join(
        f'<item><title>Day {n}</title><enclosure url="http://h/{n}.mp3" type="audio/mpeg"/>'
        f"<pubDate>{(n % 28) + 1:02d} Jan {1990 + n // 28} 10:00:00 GMT</pubDate></item>"
        for n in range(2500)
    )
    feed = f'<rss version="2.0"><channel>{items}</channel></rss>'.encode()
    entries = parse_link(feed, "feed", "http://h/feed.rss", remote=True)
    assert len(entries) == 2500
    titles = [e.title for e in entries]
    assert titles[pick_episode(titles, "-1")] == "Day 0"
    assert titles[pick_episode(titles, "1")] == "Day 2499"
