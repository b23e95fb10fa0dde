"""``kithara play`` of an M4A whose ``moov`` follows ``mdat``, from a server that grants one
connection per client (nginx ``limit_conn 1``: a second concurrent request gets 503).

FFmpeg must read ``moov`` (past the audio) before the first frame; kithara reads it over a
side request, which such a server turns away while the audio's request runs. Was (64 KB/s):
with 1 MB of cover art in ``moov``, the side request's retries ran out, the picture was not
skipped, the decoder gave up probing (exit 5 after ~20 s); without art, first audio after
~13 s (the retries waited for the audio request to end). mpv and ffmpeg close their one
connection and reopen at ``moov``. Now a side request turned away busy beside another is
not retried: the one request moves (and moves on past the picture), and a request opened
right after closing the other waits out the server's moment of seeing it closed.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from conftest import run_cli
from kithara_cli.media.encode import encode_file
from kithara_cli.media.mp4_art import moov_at_end, with_cover_art
from paced_ranges import PacedRanges, serve_paced
from radio_fixtures import read_events

ENV = {"KITHARA_AUDIO_DEVICE": "none", "KITHARA_CACHE": "off"}
RATE = 64_000  # bytes/s per connection: the 512 KB start-up request takes 8 s
STEP = 4096


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    root = tmp_path_factory.mktemp("one-conn-moov")
    plain = encode_file(root / "plain.m4a", 60.0, "m4a").read_bytes()
    return {
        "art": moov_at_end(with_cover_art(plain, 1_000_000)),
        "plain": moov_at_end(plain),
    }


class _OneAtATime(PacedRanges):
    """``data`` with Range at ``RATE``, to one request at a time (others: 503)."""

    content_type = "audio/mp4"
    accept_ranges = True
    step, pause, pause_first = STEP, STEP / RATE, True


def _serve(data: bytes) -> contextlib.AbstractContextManager[tuple[str, type[PacedRanges]]]:
    return serve_paced(_OneAtATime, data, "episode.m4a")


@pytest.mark.parametrize("kind", ["art", "plain"])
def test_moov_past_the_audio_plays_over_one_connection(
    media: dict[str, bytes], kind: str, tmp_path: Path
) -> None:
    events = tmp_path / "events.jsonl"
    with _serve(media[kind]) as (url, origin):
        proc = run_cli(
            "play", url, "--output", "null", "--length", "1", "--no-ui",
            "--events", str(events), env=ENV, timeout=60,
        )  # fmt: skip
    assert proc.returncode == 0, (proc.stderr, origin.seen)
    assert "Traceback" not in proc.stderr and "error" not in proc.stderr
    started = [e for e in read_events(events) if e["event"] == "PlaybackStarted"]
    assert started, proc.stderr
    # One connection moved to moov and back: no waiting for the 8 s start-up request.
    assert started[0]["time_to_first_audio"] < 5.0, (started, origin.seen)
    assert origin.refused > 0, origin.seen  # a side request was tried, and turned away
