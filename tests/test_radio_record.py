"""Recording radio: fetch --duration, Ctrl-C keeps a playable file, play --record + CUE."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
import wave
from pathlib import Path

import av
import numpy as np

import radio_fixtures
from conftest import run_cli
from kithara_cli.server import MediaServer
from kithara_cli.server.radio import Station
from radio_fixtures import BITRATE, read_events

radio_root = radio_fixtures.radio_root
radio_mp3 = radio_fixtures.radio_mp3

TITLES = ["A - one", "B - two", "C - three"]


def _station(radio_mp3: bytes, **kw: object) -> Station:
    return Station(
        radio_mp3, BITRATE, pace=8, metaint=4000, titles=TITLES, title_every=16_000, **kw
    )


def _seconds(path: Path) -> float:
    """Decoded seconds; a frame cut at the join of a live stream is skipped, as players do."""
    samples = 0
    with av.open(str(path)) as c:
        stream = c.streams.audio[0]
        for packet in c.demux(stream):
            try:
                samples += sum(f.samples for f in packet.decode())
            except av.error.InvalidDataError:
                continue
        return samples / stream.rate


def _cue_titles(cue: Path) -> list[str]:
    return [ln.split('"')[1] for ln in cue.read_text().splitlines() if "TITLE" in ln]


def test_fetch_duration_records_with_cue(
    radio_root: Path, radio_mp3: bytes, tmp_path: Path
) -> None:
    out = tmp_path / "rec.mp3"
    with MediaServer(radio_root) as srv:
        srv.add_radio("r.mp3", _station(radio_mp3))
        r = run_cli("fetch", srv.url("r.mp3"), "--out", str(out), "--duration", "3", timeout=30)
    assert r.returncode == 0, r.stderr
    assert out.stat().st_size == 3 * BITRATE // 8  # exactly 3 s of audio, no ICY bytes
    assert not list(tmp_path.glob("*.part"))
    assert 2.8 < _seconds(out) < 3.1
    # A title every second of audio (16000 bytes): three or four changes in 3 s, in order.
    titles = _cue_titles(out.with_name("rec.mp3.cue"))
    assert len(titles) >= 3 and all(t in TITLES for t in titles)
    assert all(a != b for a, b in itertools.pairwise(titles))


def test_fetch_split_tracks(radio_root: Path, radio_mp3: bytes, tmp_path: Path) -> None:
    out = tmp_path / "t.mp3"
    with MediaServer(radio_root) as srv:
        srv.add_radio("r.mp3", _station(radio_mp3))
        r = run_cli(
            "fetch",
            srv.url("r.mp3"),
            "--out",
            str(out),
            "--duration",
            "3",
            "--split-tracks",
            timeout=30,
        )
    assert r.returncode == 0, r.stderr
    parts = sorted(tmp_path.glob("t-*.mp3"))
    assert len(parts) >= 4  # the lead-in before the first block, then one per title
    assert sum(p.stat().st_size for p in parts) == 3 * BITRATE // 8


def test_ctrl_c_finishes_a_playable_file(
    radio_root: Path, radio_mp3: bytes, tmp_path: Path
) -> None:
    out = tmp_path / "int.mp3"
    with MediaServer(radio_root) as srv:
        srv.add_radio("r.mp3", _station(radio_mp3))
        proc = subprocess.Popen(
            [sys.executable, "-m", "kithara_cli", "fetch", srv.url("r.mp3"), "--out", str(out)],
            env={**os.environ, "NO_COLOR": "1"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        time.sleep(2.0)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=15)
    assert proc.returncode == 130, err
    assert "saved" in err.decode()
    assert out.exists() and not list(tmp_path.glob("*.part"))
    assert _seconds(out) > 1.0


def _samples(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)


def test_play_record_decodes_to_what_was_played(
    radio_root: Path, radio_mp3: bytes, tmp_path: Path
) -> None:
    rec, played, replay = tmp_path / "rec.mp3", tmp_path / "played.wav", tmp_path / "re.wav"
    ev = tmp_path / "ev.jsonl"
    with MediaServer(radio_root) as srv:
        srv.add_radio("r.mp3", _station(radio_mp3))
        r = run_cli(
            "play",
            srv.url("r.mp3"),
            "--output",
            f"wav:{played}",
            "--length",
            "3",
            "--record",
            str(rec),
            "--events",
            str(ev),
            timeout=30,
        )
        assert r.returncode == 0, r.stderr
    r = run_cli("play", str(rec), "--output", f"wav:{replay}", timeout=30)
    assert r.returncode == 0, r.stderr
    a, b = _samples(played), _samples(replay)
    n = len(a) - 48_000  # the first 2.5 s of the 3 played (the last frames may differ)
    assert len(b) >= n > 48_000 * 2 * 2
    assert np.array_equal(a[:n], b[:n])
    shown = [e["title"] for e in read_events(ev) if e["event"] == "TitleChanged"]
    cue = _cue_titles(rec.with_name("rec.mp3.cue"))
    assert shown and shown == cue[: len(shown)]  # every title played is in the CUE sheet
