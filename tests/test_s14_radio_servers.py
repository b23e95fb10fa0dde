"""Radio as real servers serve it: raw-socket Icecast/SHOUTcast answers on 127.0.0.1.

Each server here writes its status line and headers byte for byte (what no HTTP library
would send: ``ICY 200 OK``, an Icecast mount fed without a name), then real MP3 audio
encoded by PyAV (``radio_fixtures``), ICY blocks interleaved when asked.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import radio_fixtures
from conftest import play_null, run_cli
from kithara_cli.radio.icy import decode_text, parse_metadata
from kithara_cli.radio.links import parse_link
from kithara_cli.server.radio import metadata_block
from radio_fixtures import BITRATE, read_events

radio_root = radio_fixtures.radio_root
radio_mp3 = radio_fixtures.radio_mp3

Handler = Callable[[bytes, socket.socket], None]


@contextmanager
def raw_server(handler: Handler) -> Iterator[tuple[int, list[bytes]]]:
    """A threaded server: each connection's request head goes to ``handler`` with the socket.
    Yields (port, the request heads received so far)."""
    listener = socket.create_server(("127.0.0.1", 0))
    heads: list[bytes] = []
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        with conn:
            head = b""
            while b"\r\n\r\n" not in head:
                data = conn.recv(4096)
                if not data:
                    return
                head += data
            heads.append(head)
            try:
                handler(head, conn)
            except OSError:
                pass

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], heads
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def send_paced(conn: socket.socket, body: bytes, seconds_each: float, slices: int = 20) -> None:
    """``body`` in ``slices`` pieces over ``seconds_each`` seconds (a station's real time)."""
    step = -(-len(body) // slices)
    for i in range(0, len(body), step):
        conn.sendall(body[i : i + step])
        time.sleep(seconds_each / slices)


def icy_body(audio: bytes, metaint: int, titles: list[bytes]) -> bytes:
    out = bytearray()
    for n, i in enumerate(range(0, len(audio), metaint)):
        out += audio[i : i + metaint]
        out += metadata_block(titles[n % len(titles)])
    return bytes(out)


def positions(events: list[dict[str, object]]) -> list[float]:
    return [float(e["seconds"]) for e in events if e["event"] == "Position"]  # type: ignore[arg-type]


# --- an Icecast mount whose source sent no name -------------------------------------------------


def test_icecast_mount_with_only_icy_pub_is_live_and_reconnects(
    radio_root: Path, radio_mp3: bytes, tmp_path: Path
) -> None:
    """Icecast relays only the ``ice-*`` headers its source sent: ffmpeg's icecast output and
    libshout send ``ice-public`` alone unless told a name, so the mount answers with just
    ``icy-pub: 0``. Before, that answer was taken for a finite file: a Range request, LOAD
    SLOW, and the first time the server dropped the connection playback ended ("end of
    stream at 0:01", exit 0). Now it is a live stream: the drop is a reconnect and a gap."""
    second = BITRATE // 8

    def icecast(_head: bytes, conn: socket.socket) -> None:
        conn.sendall(
            b"HTTP/1.0 200 OK\r\nServer: Icecast 2.4.4\r\nContent-Type: audio/mpeg\r\n"
            b"Cache-Control: no-cache, no-store\r\nicy-pub: 0\r\n\r\n"
        )
        send_paced(conn, radio_mp3[: int(1.2 * second)], 0.6)  # then the server drops it

    events = tmp_path / "ev.jsonl"
    with raw_server(icecast) as (port, heads):
        proc = play_null(f"http://127.0.0.1:{port}/stream", events, "3", timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    evs = read_events(events)
    names = [e["event"] for e in evs]
    assert "EndOfStream" not in names, proc.stderr
    assert "StreamGap" in names
    assert len(heads) >= 2
    assert not [h for h in heads[1:] if b"range:" in h.lower()]  # reconnects: at the live edge
    assert max(positions(evs)) >= 2.9


# --- Windows-1251 titles ---------------------------------------------------------------------

CYRILLIC = ["Кино - Группа крови", "Океан Ельзи - Обійми", "ДДТ - Осень"]
WESTERN = ["Café à la crème", "Mötley Crüe - Kickstart", "Sigur Rós - Ágætis byrjun", "Coração"]


@pytest.mark.parametrize("title", CYRILLIC)
def test_windows_1251_titles_read_as_cyrillic(title: str) -> None:
    """Russian and Ukrainian SHOUTcast stations send their titles in Windows-1251; read as
    1252 they became "Êèíî - Ãðóïïà êðîâè"."""
    raw = title.encode("cp1251")
    assert decode_text(raw) == title
    assert parse_metadata(b"StreamTitle='" + raw + b"';\0\0")["StreamTitle"] == title
    pls = b"[playlist]\nFile1=http://h/live\nTitle1=" + raw + b"\n"
    assert parse_link(pls, "pls", "http://h/x.pls", remote=True)[0].title == title


@pytest.mark.parametrize("title", WESTERN)
def test_western_titles_stay_windows_1252(title: str) -> None:
    assert decode_text(title.encode("cp1252")) == title
    assert decode_text(title.encode("utf-8")) == title


def test_shoutcast_v1_cp1251_titles_reach_the_events_in_cyrillic(
    radio_root: Path, radio_mp3: bytes, tmp_path: Path
) -> None:
    """A SHOUTcast v1 server (``ICY 200 OK``, headers in odd case, no Content-Type) with
    Windows-1251 titles: each TitleChanged carries the Cyrillic text."""
    titles = [t.encode("cp1251") for t in CYRILLIC]

    def shoutcast(head: bytes, conn: socket.socket) -> None:
        assert b"icy-metadata: 1" in head.lower()
        conn.sendall(b"ICY 200 OK\r\nICY-NAME:Radio\r\nIcy-Br:128\r\nicy-MetaInt:4096\r\n\r\n")
        send_paced(conn, icy_body(radio_mp3[: 3 * BITRATE // 8], 4096, titles), 1.5)

    events = tmp_path / "ev.jsonl"
    with raw_server(shoutcast) as (port, _heads):
        proc = play_null(f"http://127.0.0.1:{port}/", events, "1.5", timeout=60)
    assert proc.returncode == 0, proc.stderr
    shown = [e["title"] for e in read_events(events) if e["event"] == "TitleChanged"]
    assert shown[:3] == CYRILLIC, shown
    assert "Кино - Группа крови" in proc.stderr


# --- a server that drops every listener at once ------------------------------------------------


def test_a_server_that_drops_every_listener_at_once_is_given_up(
    radio_root: Path, radio_mp3: bytes, tmp_path: Path
) -> None:
    """Each connection brings 2000 bytes (an eighth of a second) and is closed: a relay over
    its listener limit, a mount whose source is flapping. Before, any audio counted as "back",
    so the failure count started over on every connection: 13 reconnects a second for as
    long as the play lasted (108 in 8 s, three log lines each), snippets for sound. Now a
    connection must bring two seconds of audio to count, and after 5 such tries in a row the
    stream is lost: one line, exit 3."""

    def flapping(_head: bytes, conn: socket.socket) -> None:
        conn.sendall(b"ICY 200 OK\r\nicy-name:Flap\r\nicy-br:128\r\n\r\n" + radio_mp3[:2000])

    started = time.monotonic()
    with raw_server(flapping) as (port, heads):
        proc = run_cli(
            "play",
            f"http://127.0.0.1:{port}/",
            "--output",
            "null",
            "--length",
            "20",
            "--no-ui",
            timeout=60,
        )
    took = time.monotonic() - started
    assert proc.returncode == 3, proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if "error:" in ln]
    assert len(errors) == 1 and "live stream lost" in errors[0], proc.stderr
    assert len(heads) == 1 + 5
    assert took < 15
