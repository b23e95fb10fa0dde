"""A radio stream's request is named for what it fetches: the live stream.

Found in session 15: ``kithara play`` of a station opens it with a file's first request,
``bytes 0-524287`` (the start-up cap of a progressive file), which the live stream takes over
once the answer turns out endless. The request kept that name: the dashboard's row, and its
log's ``LOAD SLOW #1 bytes 0-524287: ...`` when the station fell under its bit rate, named a
byte range nobody fetches. Now the take-over publishes ``RequestRelabeled`` and the row and
later lines say ``live stream`` (as ``fetch --duration`` of a station names its requests;
``fetch``'s own "probe", taken over the same way, is renamed too).

While the first request is retried (a full station refuses it) the downloader's soft timeout
still runs: that LoadSlow is right by the engine's definition (a fetch not done after its soft
timeout, retries included; the Rust engine's ``with_soft_timeout`` wraps the whole fetch), so
it stays, but its line says the request is retrying, not slow to transfer.
"""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import radio_fixtures
from conftest import KITHARA, run_cli
from kithara_cli.server import MediaServer
from kithara_cli.server.radio import Station
from radio_fixtures import BITRATE, SHOUTCAST_FULL, SHOUTCAST_OK, RawStation, read_events

radio_root = radio_fixtures.radio_root
radio_mp3 = radio_fixtures.radio_mp3

ENV = {"KITHARA_AUDIO_DEVICE": "none", "KITHARA_CACHE": "off"}


def test_a_slow_station_is_named_the_live_stream(
    radio_root: Path, radio_mp3: bytes, tmp_path: Path
) -> None:
    ev = tmp_path / "ev.jsonl"
    with MediaServer(radio_root) as srv:
        srv.add_radio("slow.mp3", Station(radio_mp3, BITRATE, pace=0.6, metaint=8000))
        args = ["play", srv.url("slow.mp3"), "--output", "null", "--no-ui", "--events", str(ev)]
        proc = subprocess.Popen(
            [*KITHARA, *args, "--length", "60"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.25)
            if ev.exists() and any(e["event"] == "LoadSlow" for e in read_events(ev)):
                time.sleep(0.5)  # the plain log's next flush
                break
        proc.terminate()
        _, err = proc.communicate(timeout=15)
    events = read_events(ev)
    first = [e for e in events if e.get("request_id") == 1]
    assert first[0]["event"] == "RequestEnqueued" and first[0]["label"].startswith("bytes 0-")
    relabeled = [e for e in first if e["event"] == "RequestRelabeled"]
    assert [e["label"] for e in relabeled] == ["live stream"], first[:6]
    slow = [line for line in err.splitlines() if "LOAD SLOW" in line]
    assert slow and all("#1 live stream: " in line for line in slow), err
    assert "bytes 0-" not in err, err


def test_a_refused_first_request_is_late_and_says_it_retries(
    radio_mp3: bytes, tmp_path: Path
) -> None:
    """A full station for the first 3 s: the first request is retried past the soft timeout
    (LoadSlow, told as retrying), then taken over by the stream and renamed."""
    ev = tmp_path / "ev.jsonl"
    station = RawStation(radio_mp3, ok=SHOUTCAST_OK, refusal=SHOUTCAST_FULL, limit=0)
    with station:
        opens = threading.Timer(3.0, lambda: setattr(station, "limit", None))
        opens.start()
        proc = run_cli(
            "play", station.url(), "--output", "null", "--no-ui", "--length", "0.5",
            "--events", str(ev), env=ENV, timeout=60,
        )  # fmt: skip
        opens.join()
    assert proc.returncode == 0, proc.stderr
    slow = [line for line in proc.stderr.splitlines() if "LOAD SLOW" in line]
    assert len(slow) == 1 and "0 B after 2.0 s, retrying (attempt " in slow[0], proc.stderr
    names = [e["event"] for e in read_events(ev) if e.get("request_id") == 1]
    assert names.index("LoadSlow") < names.index("RequestRelabeled"), names


def test_fetch_renames_its_probe_taken_over_by_the_stream(radio_mp3: bytes, tmp_path: Path) -> None:
    """``fetch`` of a station with no --duration asks with a "probe" the stream takes over
    (one connection: a station at its limit would refuse a second): renamed the same way."""
    ev = tmp_path / "ev.jsonl"
    with RawStation(radio_mp3, ok=SHOUTCAST_OK) as station:
        args = ["fetch", station.url(), "--out", str(tmp_path / "r.mp3"), "--events", str(ev)]
        proc = subprocess.Popen(
            [*KITHARA, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
            if ev.exists() and any(e["event"] == "RequestRelabeled" for e in read_events(ev)):
                break
        proc.terminate()
        proc.communicate(timeout=15)
    first = [e for e in read_events(ev) if e.get("request_id") == 1]
    assert first[0]["event"] == "RequestEnqueued" and first[0]["label"] == "probe", first[:3]
    assert [e["label"] for e in first if e["event"] == "RequestRelabeled"] == ["live stream"]
