"""A server that sends the first bytes of an MP3 and then stalls is a network stall, not bad
content: the start bounds (``audio.bounds``) leave it to the network's timeouts and retries.

Before: the open bound (a wall clock from the first byte) ran out while the reader waited for
the rest, and play said "no audio stream found ... not an audio stream kithara can play"
(exit 5), though a resumed request would have brought the file. Times are scaled down with
KITHARA_OPEN_TIMEOUT and a short --timeout.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import KITHARA, run_cli
from hls_fixtures import wait_for
from kithara_cli.media import encode_file
from kithara_cli.server import Faults, MediaServer

OPEN = 3.0  # KITHARA_OPEN_TIMEOUT: the probe bound, scaled down from 15 s
HEAD = 4_000  # bytes the server sends before it stalls: a few MP3 frames, not enough to open


@pytest.fixture(scope="module")
def media_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("stall-media")
    encode_file(root / "tone.mp3", 10.0, "mp3")
    (root / "zeros.mp3").write_bytes(bytes(2_000_000))  # named as audio, holds none
    return root


@pytest.fixture
def media_server(media_root: Path) -> Iterator[MediaServer]:
    with MediaServer(media_root) as srv:
        yield srv


def _env() -> dict[str, str]:
    return {"KITHARA_OPEN_TIMEOUT": f"{OPEN:g}", "KITHARA_AUDIO_DEVICE": "none"}


def _play_args(url: str, *extra: str) -> list[str]:
    return ["play", url, "--no-ui", "--output", "null", "--length", "1", *extra]


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("kithara: error:")]


def test_a_stall_after_the_first_bytes_is_ridden_out_by_the_network(
    media_server: MediaServer,
) -> None:
    """The server sends 4 KB, then nothing for longer than the probe bound: the request's
    inactivity timeout fires, a resumed request brings the rest, and it plays (before: exit 5,
    'not an audio stream', at the bound)."""
    media_server.set_faults(
        "tone.mp3", Faults(stall_after=HEAD, stall_seconds=OPEN + 5, faults_times=1)
    )
    started = time.monotonic()
    proc = run_cli(
        *_play_args(media_server.url("tone.mp3"), "--timeout", f"{OPEN + 1:g}"), env=_env()
    )
    took = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    assert not _error_lines(proc.stderr), proc.stderr
    assert "RESUMED" in proc.stderr, proc.stderr  # the network's retry, from byte 4000
    assert took > OPEN + 1, took  # it did wait the stall out, past the probe bound
    ranges = [r.range for r in media_server.stats.requests("tone.mp3")]
    assert ranges[-1].startswith(f"bytes={HEAD}-"), ranges


def test_a_source_that_stalls_for_good_ends_in_a_network_error(
    media_server: MediaServer,
) -> None:
    """4 KB, then the server sends nothing to this request or any later one: the network's
    timeout and retries end it, exit 3 with their one line (before: exit 5, 'not an audio
    stream kithara can play')."""
    media_server.set_faults("tone.mp3", Faults(stall_after=HEAD, stall_seconds=60))
    url = media_server.url("tone.mp3")
    args = _play_args(url, "--timeout", f"{OPEN - 1:g}", "--retries", "2")
    env = {**os.environ, "NO_COLOR": "1", **_env()}
    proc = subprocess.Popen(
        [*KITHARA, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        wait_for(lambda: media_server.stats.bytes_sent("tone.mp3") >= HEAD, what="the head")
        # From now on an outage: the retry gets its headers and not one body byte.
        media_server.set_faults("tone.mp3", Faults(bandwidth_profile=[(1000.0, 0.0)]))
        _, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    errors = _error_lines(stderr)
    assert proc.returncode == 3, stderr
    assert len(errors) == 1 and "no data for too long" in errors[0], stderr
    assert "probing" not in stderr and "Traceback" not in stderr


def test_bytes_that_are_not_audio_still_end_at_the_bound_when_they_come_in_bursts(
    media_server: MediaServer,
) -> None:
    """What the bound is for: zeros named .mp3, sent in bursts with 1.5 s gaps between them.
    A gap's first second is charged like any slow link's wait, so the bound still ends it:
    exit 5, 'probing' (an uncharged wait would let it probe for as long as bursts came)."""
    bursts: list[tuple[float, float]] = []
    for _ in range(40):
        bursts += [(0.25, 64_000.0), (1.5, 0.0)]
    media_server.set_faults("zeros.mp3", Faults(bandwidth_profile=bursts))
    started = time.monotonic()
    proc = run_cli(*_play_args(media_server.url("zeros.mp3"), "--timeout", "5"), env=_env())
    took = time.monotonic() - started
    errors = _error_lines(proc.stderr)
    assert proc.returncode == 5, proc.stderr
    assert len(errors) == 1 and "probing" in errors[0], proc.stderr
    assert took < 2 * OPEN + 8, took  # charged in full, the bursts take 7 x as long
