"""A station that goes silent is the network's to judge, not the hang watchdog's.

Before: a live (ICY) source answered ``Source.fetching`` False, so the decoder's hang
watchdog (``KITHARA_HANG_TIMEOUT``, 60 s by default) counted a station's silence as a hang:
past its limit, ``kithara play`` ended with "playback stalled: no progress ...", exit 5 and a
crash log, whether the station would have come back or the reconnects would have given up
(exit 3). Now a live stream reports its connection (or a reconnect under way) as fetching
until it ends, so the silence is left to the read timeout and the reconnects. Real time is
scaled down: the watchdog's limit with ``KITHARA_HANG_TIMEOUT``, the network's with
``--timeout``. The watchdog still fires on a real hang: tests/test_decoder_shutdown.py.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

import radio_fixtures
from conftest import KITHARA
from radio_fixtures import SHOUTCAST_OK, RawStation, read_events

radio_root = radio_fixtures.radio_root
radio_mp3 = radio_fixtures.radio_mp3

HANG = 2.5  # KITHARA_HANG_TIMEOUT: the watchdog's limit, scaled down from 60 s


def _play(station: RawStation, state: Path, events: Path, *args: str) -> tuple[
    subprocess.CompletedProcess[str], float
]:  # fmt: skip
    """``kithara play`` of the station; the station goes silent 1.5 s after it is asked."""

    def silence() -> None:
        deadline = time.monotonic() + 30
        while not station.heads and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(1.5)
        station.on_air.clear()

    env = {
        **os.environ,
        "NO_COLOR": "1",
        "KITHARA_AUDIO_DEVICE": "none",
        "KITHARA_CACHE": "off",
        "KITHARA_HANG_TIMEOUT": f"{HANG:g}",
        "KITHARA_STATE_DIR": str(state),
    }
    cmd = [*KITHARA, "play", station.url(), "--no-ui", "--output", "null",
           "--events", str(events), *args]  # fmt: skip
    threading.Thread(target=silence, daemon=True).start()
    started = time.monotonic()
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=90
    )
    return proc, time.monotonic() - started


def _errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "error:" in line]


def test_a_station_silent_past_the_watchdog_limit_plays_on_when_it_resumes(
    radio_mp3: bytes, tmp_path: Path
) -> None:
    """1.5 s of audio, then 2 x the watchdog's limit of silence, then the station again: the
    one connection rides it out (its read timeout is longer) and playback reaches its
    --length, exit 0 (before: exit 5, "playback stalled", a crash log at 2.5 s)."""
    state, events = tmp_path / "state", tmp_path / "ev.jsonl"
    with RawStation(radio_mp3) as station:

        def resume() -> None:
            while station.on_air.is_set():
                time.sleep(0.02)
            time.sleep(2 * HANG)
            station.on_air.set()

        threading.Thread(target=resume, daemon=True).start()
        proc, took = _play(station, state, events, "--length", "5", "--timeout", "20")
    assert proc.returncode == 0, proc.stderr
    assert not _errors(proc.stderr), proc.stderr
    assert not list(state.glob("crash-*.log"))
    seconds = [float(e["seconds"]) for e in read_events(events) if e["event"] == "Position"]
    assert max(seconds) >= 4.9, seconds[-5:]
    assert took > 2 * HANG, took  # it did wait the silence out
    assert len(station.heads) == 1  # no reconnect: the connection took up again


def test_a_station_silent_for_good_ends_in_the_network_error(
    radio_mp3: bytes, tmp_path: Path
) -> None:
    """A SHOUTcast v1 station that answers every (re)connection and then sends nothing: the
    read timeout (1 s here) ends each connection, five reconnects follow, and the stream is
    lost: exit 3, one line, no crash log (before: exit 5 at the watchdog's limit)."""
    state, events = tmp_path / "state", tmp_path / "ev.jsonl"
    with RawStation(radio_mp3, ok=SHOUTCAST_OK) as station:
        proc, took = _play(station, state, events, "--length", "60", "--timeout", "1")
    errors = _errors(proc.stderr)
    assert proc.returncode == 3, proc.stderr
    assert len(errors) == 1 and "live stream lost" in errors[0], proc.stderr
    assert "stalled" not in proc.stderr and "Traceback" not in proc.stderr
    assert not list(state.glob("crash-*.log"))
    assert took > 2 * HANG, took  # the silence did outlast the watchdog's limit
    assert len(station.heads) == 1 + 5  # the reconnects were made
    names = [e["event"] for e in read_events(events)]
    assert names.count("StreamReconnecting") == 5
