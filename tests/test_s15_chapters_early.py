"""A long episode's chapters show from its start, not once the whole file is in.

Found in session 15: over HTTP the decoder starts past the ID3 tag (its cover art, session
14), and the tag is fetched after the rest of the file, so its chapters (read from the tag's
bytes) showed only once the whole episode had downloaded: an hour-long podcast on a slow link
showed none for minutes. The tag's first bytes (the CHAP frames before the art) come with the
first response; they are now read at once, the art's missing bytes as zeros.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import play_null
from kithara_cli.audio.mp3_frames import id3v2_size
from kithara_cli.media.encode import encode_file
from kithara_cli.server import MediaServer
from kithara_cli.server.faults import Faults
from test_s15_podcast_chapters import chapter_tag

MARKS = [(0, "Intro"), (1000, "Second"), (2000, "Third")]


@pytest.fixture(scope="module")
def episode(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("early")
    audio = encode_file(root / "raw.mp3", 60.0, "mp3").read_bytes()
    (root / "ep.mp3").write_bytes(chapter_tag(MARKS, 60000, 300_000) + audio[id3v2_size(audio) :])
    return root


def test_chapters_show_before_the_tag_has_downloaded(episode: Path, tmp_path: Path) -> None:
    events = tmp_path / "ev.jsonl"
    size = (episode / "ep.mp3").stat().st_size
    with MediaServer(episode) as srv:
        srv.set_faults("ep.mp3", Faults(rate_total=100_000))  # the file takes 13 s
        proc = play_null(srv.url("ep.mp3"), events, length="2.5")
        sent = srv.stats.bytes_sent()
    assert proc.returncode == 0, proc.stderr
    assert sent < size - 200_000  # most of the art (fetched last) never came
    shown = [
        (e["title"], e["position"])
        for e in map(json.loads, events.read_text().splitlines())
        if e["event"] == "TitleChanged" and e.get("chapter")
    ]
    assert shown == [(title, ms / 1000) for ms, title in MARKS]
