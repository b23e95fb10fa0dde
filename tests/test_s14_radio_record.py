"""Recording a station that goes away: what was recorded is kept, and the one line says so."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import av

import radio_fixtures
from conftest import run_cli
from kithara_cli.server.radio import metadata_block
from radio_fixtures import BITRATE
from test_s14_radio_servers import raw_server

radio_root = radio_fixtures.radio_root
radio_mp3 = radio_fixtures.radio_mp3

METAINT = 8192


def _decoded_seconds(path: Path) -> float:
    with av.open(str(path)) as container:
        return sum(f.samples for f in container.decode(audio=0)) / 44100


def test_fetch_of_a_mount_that_goes_away_keeps_the_recording_and_says_so(
    radio_root: Path, radio_mp3: bytes, tmp_path: Path
) -> None:
    """The source of a SHOUTcast mount disconnects for good: the connection closes and every
    reconnect is a 404. ``fetch --out`` keeps the recording (whole, playable, no ICY bytes)
    and exits 4, as before; but its one line read only "HTTP 404 not found: URL" (the "saved"
    notice was dropped with the progress line), so the user was not told a file was kept."""
    born: list[float] = []
    second = BITRATE // 8

    def mount(_head: bytes, conn: socket.socket) -> None:
        born.append(born[0] if born else time.monotonic())
        if time.monotonic() - born[0] > 2.0:
            conn.sendall(b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            return
        conn.sendall(b"ICY 200 OK\r\nicy-name:Gone\r\nicy-br:128\r\nicy-metaint:8192\r\n\r\n")
        audio = radio_mp3[: 4 * METAINT]  # 2 s: whole blocks, as a server keeps them
        for n, i in enumerate(range(0, len(audio), METAINT)):
            conn.sendall(audio[i : i + METAINT] + metadata_block(b"Song %d" % n))
            time.sleep(METAINT / second / 2)  # twice real time
        # the source is gone: the server closes the listener's connection

    out = tmp_path / "show.mp3"
    with raw_server(mount) as (port, _heads):
        proc = run_cli("fetch", f"http://127.0.0.1:{port}/", "--out", str(out), timeout=60)
    assert proc.returncode == 4, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if "error:" in ln]
    assert len(lines) == 1 and "404" in lines[0], proc.stderr
    assert f"saved in {out}" in lines[0], proc.stderr
    assert out.exists() and not list(tmp_path.glob("*.part"))
    data = out.read_bytes()
    assert b"StreamTitle" not in data
    assert _decoded_seconds(out) > 1.0
    assert "Song 1" in (tmp_path / "show.mp3.cue").read_text()
