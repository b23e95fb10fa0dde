"""``kithara fetch`` of a radio station uses one connection.

Before: a fetch without --duration first tried the URL as a file (a probe with
``Range: bytes=0-``); on the ICY answer it dropped that connection and opened another to
record. A station at its listener limit (often 1 on a small Icecast or SHOUTcast plan)
still counts the first listener while the second arrives, and refused it (Icecast 2.4:
``403 Forbidden``, exit 4 "HTTP 403 forbidden"; SHOUTcast v1: ``ICY 401``). Now the
answer to the first request is recorded itself (it asks for ICY titles too, as play's does),
so the station sees one listener, and the titles still reach the CUE sheet.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

import radio_fixtures
from conftest import KITHARA
from hls_fixtures import wait_for
from radio_fixtures import (
    ICECAST_FULL,
    ICECAST_OK,
    SHOUTCAST_FULL,
    SHOUTCAST_OK,
    RawStation,
)

radio_root = radio_fixtures.radio_root
radio_mp3 = radio_fixtures.radio_mp3

SERVERS = {"icecast": (ICECAST_OK, ICECAST_FULL), "shoutcast": (SHOUTCAST_OK, SHOUTCAST_FULL)}


@pytest.mark.parametrize("kind", sorted(SERVERS))
def test_fetch_of_a_station_at_its_listener_limit_records_on_one_connection(
    kind: str, radio_mp3: bytes, tmp_path: Path
) -> None:
    ok, refusal = SERVERS[kind]
    out = tmp_path / "radio.mp3"
    env = {**os.environ, "NO_COLOR": "1", "KITHARA_CACHE": "off"}
    with RawStation(radio_mp3, ok=ok, refusal=refusal, limit=1, metaint=4000) as station:
        proc = subprocess.Popen(
            [*KITHARA, "fetch", station.url(), "--out", str(out)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
            text=True, env=env,
        )  # fmt: skip
        try:
            part = tmp_path / "radio.mp3.part"
            wait_for(lambda: part.exists() and part.stat().st_size > 24_000, what="audio")
            time.sleep(0.5)
            proc.send_signal(signal.SIGINT)  # a recording ends with Ctrl-C, saved
            _, stderr = proc.communicate(timeout=30)
        finally:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, stderr
    assert "saved in" in stderr and "Traceback" not in stderr
    assert "403" not in stderr and "401" not in stderr, stderr
    assert len(station.heads) == 1, station.heads  # one connection, never refused
    assert station.most == 1
    assert b"icy-metadata: 1" in station.heads[0].lower()  # titles asked on that one
    data = out.read_bytes()
    assert len(data) > 24_000
    assert b"StreamTitle" not in data  # the ICY blocks stripped from the recording
    assert data[:2000] in radio_mp3  # audio from the station's first byte on
    assert "First Song" in (tmp_path / "radio.mp3.cue").read_text()


def test_a_recording_taken_over_from_the_first_request_reconnects_at_the_live_edge(
    radio_mp3: bytes, tmp_path: Path
) -> None:
    """The connection the recording took over is the live stream's own: when the station
    drops it (every 3 s here), the recording reconnects without a Range (the live edge) and
    goes on in the same file, as ``fetch --duration``'s own connection does."""
    out = tmp_path / "radio.mp3"
    env = {**os.environ, "NO_COLOR": "1", "KITHARA_CACHE": "off"}
    drop = 3 * radio_fixtures.BITRATE // 8
    with RawStation(radio_mp3, limit=1, drop_after=drop) as station:
        proc = subprocess.Popen(
            [*KITHARA, "fetch", station.url(), "--out", str(out)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
            text=True, env=env,
        )  # fmt: skip
        try:
            part = tmp_path / "radio.mp3.part"
            wait_for(lambda: part.exists() and part.stat().st_size > drop + 8000, what="more")
            proc.send_signal(signal.SIGINT)
            _, stderr = proc.communicate(timeout=30)
        finally:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, stderr
    assert len(station.heads) >= 2 and station.most == 1, stderr
    assert b"range:" in station.heads[0].lower()  # the first request, asked as a file's
    assert not [h for h in station.heads[1:] if b"range:" in h.lower()]  # reconnects: no Range
    data = out.read_bytes()
    assert len(data) > drop + 8000
    assert data[:drop] == radio_mp3[:drop]  # the first connection's audio, whole
    assert data[drop : drop + 4000] == radio_mp3[:4000]  # the reconnect's (its broadcast)
