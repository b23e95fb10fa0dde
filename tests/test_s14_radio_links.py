"""``kithara fetch`` of a station link whose first entry is a web page, not the stream."""

from __future__ import annotations

import socket
import time
from contextlib import AbstractContextManager
from pathlib import Path

import av

import radio_fixtures
from conftest import run_cli
from radio_fixtures import BITRATE
from test_s14_radio_servers import raw_server

radio_root = radio_fixtures.radio_root
radio_mp3 = radio_fixtures.radio_mp3

PAGE = b"<!DOCTYPE html><html><head><title>Radio</title></head><body>Listen!</body></html>"


def _link_server(
    radio_mp3: bytes, entries: list[str]
) -> AbstractContextManager[tuple[int, list[bytes]]]:
    second = BITRATE // 8

    def handler(head: bytes, conn: socket.socket) -> None:
        path = head.split(b" ")[1].decode()
        port = conn.getsockname()[1]
        if path == "/radio.pls":
            lines = [f"File{n}=http://127.0.0.1:{port}{e}" for n, e in enumerate(entries, 1)]
            body = ("[playlist]\n" + "\n".join(lines) + "\n").encode()
            ctype = b"audio/x-scpls"
        elif path == "/home":
            body, ctype = PAGE, b"text/html; charset=utf-8"
        else:
            conn.sendall(b"ICY 200 OK\r\nicy-name:Mirror\r\nicy-br:128\r\n\r\n")
            for i in range(0, 8 * second, 4000):
                conn.sendall(radio_mp3[i : i + 4000])
                time.sleep(4000 / second / 4)
            return
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n"
            b"\r\n%s" % (ctype, len(body), body)
        )

    return raw_server(handler)


def test_fetch_skips_a_mirror_that_is_a_web_page(
    radio_root: Path, radio_mp3: bytes, tmp_path: Path
) -> None:
    """A .pls whose first entry is the station's home page (200, text/html). ``play`` tried
    the next mirror already; ``fetch`` saved the page's HTML as ``show.mp3`` and said "saved",
    exit 0. Now the page is a dead mirror there too: the stream is recorded."""
    out = tmp_path / "show.mp3"
    with _link_server(radio_mp3, ["/home", "/live"]) as (port, _heads):
        url = f"http://127.0.0.1:{port}/radio.pls"
        proc = run_cli("fetch", url, "--out", str(out), "--duration", "1", timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "mirror 1 of 2 failed (not audio" in proc.stderr
    assert not out.read_bytes().startswith(b"<!DOCTYPE")
    with av.open(str(out)) as container:
        assert sum(f.samples for f in container.decode(audio=0)) > 0.5 * 44100


def test_fetch_of_a_link_to_a_web_page_alone_is_one_line_exit_5(
    radio_root: Path, radio_mp3: bytes, tmp_path: Path
) -> None:
    out = tmp_path / "show.mp3"
    with _link_server(radio_mp3, ["/home"]) as (port, _heads):
        proc = run_cli("fetch", f"http://127.0.0.1:{port}/radio.pls", "--out", str(out))
    assert proc.returncode == 5, proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if "error:" in ln]
    assert len(errors) == 1 and "web page" in errors[0], proc.stderr
    assert not list(tmp_path.iterdir())  # nothing at --out, no .part
