"""A server that stops sending mid-file is the network's to judge, not the hang watchdog's.

Before: the decoder's hang watchdog (``KITHARA_HANG_TIMEOUT``, 60 s by default) counted the
time its reads waited on a stalled request, so a stall longer than its limit ended play with
"playback stalled: no progress ... (thread stacks in ...)", exit 5 and a crash log, before
the network's own give-up (its inactivity timeout and retries: exit 3) or the server's
resumption. Now the seconds a read waits on bytes a running request is bringing
(``ByteStream.stall_waited``) do not run the watchdog's clock. Times are scaled down: the
watchdog's limit with ``KITHARA_HANG_TIMEOUT``, the network's with ``--timeout``/``--retries``.
The watchdog still fires on a real hang: tests/test_decoder_shutdown.py.
"""

from __future__ import annotations

import os
import subprocess
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import KITHARA, run_cli
from hls_fixtures import wait_for
from kithara_cli.media import encode_file
from kithara_cli.server import Faults, MediaServer

HANG = 2.5  # KITHARA_HANG_TIMEOUT: the watchdog's limit, scaled down from 60 s
SECONDS = 6.0  # the tone's length
HEAD = 32_000  # bytes sent before the stall: 2 s of the 128 kb/s MP3, decoded at once


@pytest.fixture(scope="module")
def media_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("watchdog-media")
    encode_file(root / "tone.mp3", SECONDS, "mp3")
    return root


@pytest.fixture
def media_server(media_root: Path) -> Iterator[MediaServer]:
    with MediaServer(media_root) as srv:
        yield srv


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("kithara: error:")]


def _play_through_a_stall(
    server: MediaServer, state: Path, after: Faults, *args: str
) -> tuple[subprocess.CompletedProcess[str], float]:
    """Play tone.mp3: the server sends ``HEAD`` bytes, then serves with ``after`` (an outage,
    for good or for a while); the process's result and how long it took."""
    server.set_faults("tone.mp3", Faults(stall_after=HEAD, stall_seconds=60))
    env = {
        **os.environ,
        "NO_COLOR": "1",
        "KITHARA_AUDIO_DEVICE": "none",
        "KITHARA_HANG_TIMEOUT": f"{HANG:g}",
        "KITHARA_STATE_DIR": str(state),
    }
    cmd = [*KITHARA, "play", server.url("tone.mp3"), "--no-ui", *args]
    started = time.monotonic()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
        text=True, env=env,
    )  # fmt: skip
    try:
        wait_for(lambda: server.stats.bytes_sent("tone.mp3") >= HEAD, what="the head")
        server.set_faults("tone.mp3", after)  # retries get their headers, then this
        stdout, stderr = proc.communicate(timeout=90)
    finally:
        proc.kill()
        proc.wait()
    took = time.monotonic() - started
    return subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr), took


def test_a_server_that_stalls_for_good_ends_in_the_network_error(
    media_server: MediaServer, tmp_path: Path
) -> None:
    """2 s of audio, then not one byte to this request or its retries: the reads wait past
    the watchdog's limit, and the network's timeout and retries end it: exit 3, its one line,
    no crash log (before: exit 5, 'playback stalled ... thread stacks in', a crash log)."""
    state = tmp_path / "state"
    outage = Faults(bandwidth_profile=[(1000.0, 0.0)])
    proc, took = _play_through_a_stall(
        media_server, state, outage, "--output", "null", "--timeout", "2", "--retries", "3"
    )
    errors = _error_lines(proc.stderr)
    assert proc.returncode == 3, proc.stderr
    assert len(errors) == 1 and "no data for too long" in errors[0], proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == errors[0], proc.stderr
    assert "stalled" not in errors[0] and "Traceback" not in proc.stderr
    assert not list(state.glob("crash-*.log"))
    assert took > 2 * HANG, took  # it did wait past the watchdog's limit
    assert len(media_server.stats.requests("tone.mp3")) >= 3  # the retries were made


def test_a_stall_that_ends_plays_to_the_end(media_server: MediaServer, tmp_path: Path) -> None:
    """2 s of audio, then nothing for twice the watchdog's limit, then the rest: the request
    (its timeout longer than the stall) takes up again and the whole tone plays, exit 0
    (before: exit 5 at the watchdog's limit, the rest never heard)."""
    state = tmp_path / "state"
    wav_path = tmp_path / "out.wav"
    pause = 2 * HANG
    media_server.set_faults(
        "tone.mp3", Faults(stall_after=HEAD, stall_seconds=pause, faults_times=1)
    )
    started = time.monotonic()
    proc = run_cli(
        "play", media_server.url("tone.mp3"), "--no-ui", "--output", f"wav:{wav_path}",
        "--timeout", "20",
        env={
            "KITHARA_AUDIO_DEVICE": "none",
            "KITHARA_HANG_TIMEOUT": f"{HANG:g}",
            "KITHARA_STATE_DIR": str(state),
        },
    )  # fmt: skip
    took = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    assert not _error_lines(proc.stderr), proc.stderr
    assert not list(state.glob("crash-*.log"))
    with wave.open(str(wav_path)) as wav:
        played = wav.getnframes() / wav.getframerate()
    assert played == pytest.approx(SECONDS, abs=0.2), played  # every second of it
    assert took > pause, took  # it waited the stall out
    assert len(media_server.stats.requests("tone.mp3")) == 1  # ridden out, no retry: the
    # one request's body went on (what the watchdog ended before)
