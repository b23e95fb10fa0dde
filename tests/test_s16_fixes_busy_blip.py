"""One busy answer to a side request is a blip, not a one-connection server (session 16).

Found here: a single 503 to a side request (FFmpeg's peek at a file's end) beside the running
request switched the playback to one connection at a time for the rest of it (the s16
``limit_conn 1`` handling): a CDN that refuses one request in a thousand then had every
later peek wait for the running request to end, or move it (a reconnect). Now it takes two
refusals in a row (no side request served between) to switch; a side request served after
the blip runs beside the running one as before. The ``limit_conn 1`` servers of
tests/test_s16_servers_one_conn_moov.py and tests/test_s15_servers_play_conn_cap.py still
play over one connection.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from kithara_cli.dl import Downloader
from kithara_cli.events import EventBus
from kithara_cli.file.source import ProgressiveSource
from kithara_cli.media import encode_file
from paced_ranges import PacedRanges, serve_paced

STEP, PAUSE = 16_384, 0.1  # 160 KB/s per connection: the start-up request runs ~3 s


@pytest.fixture(scope="module")
def mp3(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("blip") / "tone.mp3"
    encode_file(path, 120.0, "mp3")
    return path.read_bytes()


class _Blip(PacedRanges):
    """``data`` with Range, paced, to any number of requests, but the first one that comes
    while another is served gets a 503 (a CDN edge's moment of trouble)."""

    etag = '"blip"'
    step, pause = STEP, PAUSE

    @classmethod
    def turn_away(cls) -> bool:
        return cls.active > 0 and not any(s.startswith("503") for s in cls.seen)


def _serve(data: bytes) -> contextlib.AbstractContextManager[tuple[str, type[PacedRanges]]]:
    return serve_paced(_Blip, data, "tone.mp3")


def _wait(check: Callable[[], bool], timeout: float = 2.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.02)
    return check()


def test_a_side_request_after_one_busy_answer_runs_beside_the_stream(
    mp3: bytes, tmp_path: Path
) -> None:
    with _serve(mp3) as (url, origin), Downloader(EventBus()) as dl:
        source = ProgressiveSource(dl, url, tmp_path / "cache.bin")
        try:
            source.start(0)
            assert source.first_response.wait(5) and source.length() == len(mp3)
            total = len(mp3)
            # FFmpeg's peek at the end (ID3v1): the blip turns it away.
            assert not source.peek_ready(total - 128, 128)
            assert _wait(lambda: not source.fetching(total - 128))
            assert any(s.startswith("503") for s in origin.seen), origin.seen
            # A later peek elsewhere past the stream: a side request beside it, served at
            # once (was: none while the stream runs, the peek waited for its end, ~3 s).
            at = total - 300_000
            assert not source.peek_ready(at, 4096)
            assert _wait(lambda: source.resource.contains(at, at + 4096)), origin.seen
        finally:
            source.close()
    # The stream never moved: its request, the refused peek, the side request; no more.
    assert origin.seen[0] == "bytes=0-524287" and len(origin.seen) == 3, origin.seen
