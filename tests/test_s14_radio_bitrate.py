"""A station whose ``icy-br`` lies: seconds are counted by the stream's own frame headers."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import av
import pytest

import radio_fixtures
from conftest import play_null, run_cli
from kithara_cli.media.encode import encode_file
from kithara_cli.radio.frame_rate import frame_byterate, trusted_byterate
from kithara_cli.server.radio import metadata_block
from radio_fixtures import BITRATE
from test_s14_radio_servers import raw_server

radio_root = radio_fixtures.radio_root
radio_mp3 = radio_fixtures.radio_mp3

METAINT = 8000


def _decoded_seconds(path: Path) -> float:
    with av.open(str(path)) as container:
        return sum(f.samples for f in container.decode(audio=0)) / 44100


def test_frame_byterate_of_mp3_and_aac_joined_mid_frame(radio_root: Path, radio_mp3: bytes) -> None:
    aac_path = radio_root / f"s14-rate-{os.getpid()}.aac"
    encode_file(aac_path, 3.0, "aac", bitrate=64_000)
    aac = aac_path.read_bytes()
    mp3_rate = frame_byterate(radio_mp3[5001:40_000])
    assert mp3_rate is not None and abs(mp3_rate - BITRATE / 8) < 50
    aac_rate = frame_byterate(aac[777:])
    whole = len(aac) / 3.0
    assert aac_rate is not None and 0.5 * whole < aac_rate < 1.5 * whole
    assert frame_byterate(os.urandom(65536)) is None
    assert frame_byterate(b"OggS" + bytes(5000)) is None


def test_trusted_byterate_keeps_icy_br_within_a_third() -> None:
    assert trusted_byterate(16000.0, 17000.0) == 16000.0  # a VBR swing: the nominal rate
    assert trusted_byterate(4000.0, 16000.0) == 16000.0  # a lie: the frames
    assert trusted_byterate(40000.0, 16000.0) == 16000.0
    assert trusted_byterate(None, 16000.0) == 16000.0
    assert trusted_byterate(16000.0, None) == 16000.0


@pytest.mark.parametrize("claimed_kbps", [32, 320])
def test_fetch_duration_counts_audio_seconds_whatever_icy_br_says(
    radio_root: Path, radio_mp3: bytes, tmp_path: Path, claimed_kbps: int
) -> None:
    """A 128 kbit/s MP3 station whose header says ``icy-br: 32`` (or 320). Before, ``fetch
    --duration 3`` counted its bytes at the header's rate: 0.75 s recorded (or 7.5 s), and
    the CUE sheet's times off by the same factor; now 3 s, as ffmpeg's ``-t 3`` records."""
    second = BITRATE // 8

    def station(_head: bytes, conn: socket.socket) -> None:
        conn.sendall(
            b"ICY 200 OK\r\nicy-name:Liar FM\r\nicy-br:%d\r\nicy-metaint:%d\r\n\r\n"
            % (claimed_kbps, METAINT)
        )
        for n, i in enumerate(range(0, 10 * second, METAINT)):
            conn.sendall(radio_mp3[i : i + METAINT] + metadata_block(b"Song %d" % n))
            time.sleep(METAINT / second / 4)  # four times real time

    out = tmp_path / "liar.mp3"
    with raw_server(station) as (port, _heads):
        proc = run_cli(
            "fetch", f"http://127.0.0.1:{port}/", "--out", str(out), "--duration", "3", timeout=60
        )
    assert proc.returncode == 0, proc.stderr
    assert abs(_decoded_seconds(out) - 3.0) < 0.3
    cue = (tmp_path / "liar.mp3.cue").read_text()
    assert 'TITLE "Song 1"\n    INDEX 01 00:01:00' in cue  # 16000 bytes in: second 1


def test_play_shows_icy_titles_when_their_audio_plays_whatever_icy_br_says(
    radio_root: Path, radio_mp3: bytes, tmp_path: Path
) -> None:
    """ICY titles are placed by audio byte offset over the byte rate: with ``icy-br: 32`` on
    a 128 kbit/s stream each showed at four times its time (one title in 3 s, not five)."""
    second = BITRATE // 8

    def station(_head: bytes, conn: socket.socket) -> None:
        conn.sendall(b"ICY 200 OK\r\nicy-br:32\r\nicy-metaint:%d\r\n\r\n" % METAINT)
        for n, i in enumerate(range(0, 10 * second, METAINT)):
            conn.sendall(radio_mp3[i : i + METAINT] + metadata_block(b"Song %d" % n))
            time.sleep(METAINT / second / 2)

    events = tmp_path / "ev.jsonl"
    with raw_server(station) as (port, _heads):
        proc = play_null(f"http://127.0.0.1:{port}/", events, "3", timeout=60)
    assert proc.returncode == 0, proc.stderr
    titles = [e for e in radio_fixtures.read_events(events) if e["event"] == "TitleChanged"]
    assert [t["title"] for t in titles][:4] == ["Song 0", "Song 1", "Song 2", "Song 3"]
    for t in titles:
        assert abs(t["position"] - t["byte_offset"] / second) <= 0.15, t
