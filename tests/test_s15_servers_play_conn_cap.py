"""``kithara play`` from a server that caps connections per client (nginx ``limit_conn 1``):
while the first request is being served, a second one gets 503.

FFmpeg peeks at an MP3's end (ID3v1) before it plays; kithara asks those bytes beside the
running request. Was: the peek's 503s, after its retries, failed the whole stream (exit 3 in
about a second) while the first connection was delivering the file; mpv and ffplay, one
connection at a time, played it. Now a busy answer to the peek is not the stream's failure:
the peek is asked again, and served once the connection is free.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from conftest import run_cli
from kithara_cli.audio.mp3_frames import id3v2_size
from kithara_cli.media import encode_file
from paced_ranges import PacedRanges, serve_paced


@pytest.fixture(scope="module")
def mp3(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("conn_cap") / "tone.mp3"
    encode_file(path, 30.0, "mp3")
    # Without the encoder's ID3v2 tag: a file whose tag names a title is not peeked at (the
    # demuxer reads ID3v1 only when it found no title; session 16 shows small tags to it).
    data = path.read_bytes()
    return data[id3v2_size(data) :]


class _OneAtATime(PacedRanges):
    """``data`` with Range, 64 KiB every 0.25 s, to one request at a time (others: 503)."""


def _serve(data: bytes) -> contextlib.AbstractContextManager[tuple[str, type[PacedRanges]]]:
    return serve_paced(_OneAtATime, data, "tone.mp3")


def test_a_peek_turned_away_by_a_connection_cap_does_not_end_playback(
    mp3: bytes, tmp_path: Path
) -> None:
    with _serve(mp3) as (url, origin):
        proc = run_cli(
            "play", url, "--output", "null", "--length", "1", "--no-ui", "--retries", "2",
            "--events", str(tmp_path / "events.jsonl"), timeout=60,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "error" not in proc.stderr
    assert origin.refused > 0  # a second connection was tried, and turned away
