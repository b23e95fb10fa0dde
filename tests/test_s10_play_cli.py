"""``kithara play``'s first minutes: typos, folders, several URLs, exit codes scripts can trust.

Found by a user-level review (session 10): ``http://[::1`` was an internal error with a crash
log; a folder was "decoder failed: IsADirectoryError" (exit 5); ``play BAD GOOD`` exited 0
while ``play GOOD BAD`` exited 4; 21 station links on one command line were "nested too
deep" (exit 2), as the expansions were counted over the whole queue, not down one chain.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import radio_fixtures
from conftest import run_cli
from kithara_cli.errors import PlaylistError
from kithara_cli.play.queue import MAX_EXPANSIONS, PlayQueue
from kithara_cli.server import MediaServer
from kithara_cli.server.radio import Station
from radio_fixtures import BITRATE, read_events

radio_root = radio_fixtures.radio_root


def _lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


@pytest.mark.parametrize(
    ("target", "says"),
    [
        ("http://[::1", "invalid URL"),
        ("https://[bad/x.m3u8", "invalid URL"),
        ("", "empty URL"),
        (".", "a folder"),
    ],
)
def test_a_typo_is_one_usage_line_exit_2(target: str, says: str, tmp_path: Path) -> None:
    r = run_cli("play", target, "--output", "null", "--no-ui", cwd=tmp_path, timeout=30)
    assert r.returncode == 2, r.stderr
    lines = _lines(r.stderr)
    assert len(lines) == 1 and says in lines[0], lines
    assert "internal error" not in r.stderr and "Traceback" not in r.stderr


def _play(*urls: str, ev: Path) -> tuple[int, str, list[dict[str, object]]]:
    r = run_cli("play", *urls, "--output", "null", "--no-ui", "--events", str(ev), "--retries", "1")
    return r.returncode, r.stderr, read_events(ev)


def test_a_failed_item_fails_the_run_wherever_it_stands(radio_root: Path, tmp_path: Path) -> None:
    """Both orders play the good file and exit 4 with the 404 as the last line."""
    with MediaServer(radio_root) as srv:
        good, bad = srv.url("short.mp3"), srv.url("gone.mp3")
        for n, urls in enumerate([(good, bad), (bad, good)]):
            code, err, events = _play(*urls, ev=tmp_path / f"ev{n}.jsonl")
            assert code == 4, (urls, err)
            assert sum(e["event"] == "EndOfStream" for e in events) == 1, urls
            last = _lines(err)[-1]
            assert last.startswith("kithara: error: HTTP 404") and "gone.mp3" in last, err


def test_a_dead_mirror_behind_a_good_one_is_not_a_failure(radio_root: Path, tmp_path: Path) -> None:
    """Mirrors of one link: one that plays is the link playing (exit 0); a hand-given item
    after it still counts on its own."""
    with MediaServer(radio_root) as srv:
        srv.add_link("s.m3u", "m3u", [srv.url("gone.mp3"), srv.url("short.mp3")])
        code, err, _ = _play(srv.url("s.m3u"), ev=tmp_path / "a.jsonl")
        assert code == 0, err
        code, err, events = _play(srv.url("s.m3u"), srv.url("gone2.mp3"), ev=tmp_path / "b.jsonl")
        assert code == 4, err
        assert "gone2.mp3" in _lines(err)[-1]
        srv.add_link("dead.m3u", "m3u", [srv.url("gone.mp3"), srv.url("gone2.mp3")])
        code, err, events = _play(
            srv.url("dead.m3u"), srv.url("short.mp3"), ev=tmp_path / "c.jsonl"
        )
        assert code == 4, err  # every mirror of the link failed: the link failed
        assert sum(e["event"] == "EndOfStream" for e in events) == 1


def test_many_links_in_a_queue_but_a_chain_of_links_is_bounded() -> None:
    queue = PlayQueue([f"http://h/{i}.pls" for i in range(MAX_EXPANSIONS * 2)])
    for i in range(MAX_EXPANSIONS * 2):  # each given link expands once: never "too deep"
        queue.expand(queue.items[i].target, [(f"http://h/{i}.mp3", "")])
        queue.advance()
    assert len(queue) == MAX_EXPANSIONS * 2
    looping = PlayQueue(["http://h/a.pls"])
    with pytest.raises(PlaylistError):  # a.pls -> b.pls -> a.pls ...: bad content, exit 5
        for n in range(MAX_EXPANSIONS + 2):
            looping.expand(looping.items[0].target, [(f"http://h/{'ab'[n % 2]}.pls", "")])


def test_a_link_that_names_itself_is_bad_content_exit_5(radio_root: Path) -> None:
    with MediaServer(radio_root) as srv:
        srv.add_link("loop.pls", "pls", [srv.url("loop.pls")])
        r = run_cli("play", srv.url("loop.pls"), "--output", "null", "--no-ui", timeout=60)
    assert r.returncode == 5, r.stderr
    lines = _lines(r.stderr)
    assert len(lines) == 1 and "station links nested" in lines[0], lines


def test_a_normal_stop_logs_no_cancelled_request(radio_root: Path) -> None:
    """``--length`` ending a radio stream printed ``CANCELLED #1 bytes 0-524287 (shutdown)``
    as its last line: the stop the user asked for, told as if something had gone wrong."""
    mp3 = (radio_root / "tone.mp3").read_bytes()
    with MediaServer(radio_root) as srv:
        srv.add_radio("live.mp3", Station(mp3, BITRATE, pace=2))
        r = run_cli("play", srv.url("live.mp3"), "--output", "null", "--no-ui", "--length", "0.5")
        verbose = run_cli(
            "play", srv.url("live.mp3"), "--output", "null", "--no-ui", "--length", "0.5", "-v"
        )
    assert r.returncode == 0 and verbose.returncode == 0, r.stderr + verbose.stderr
    assert "STARTED" in r.stderr and "CANCELLED" not in r.stderr, r.stderr
    assert "[RequestCancelled]" in verbose.stderr  # -v still logs every event
