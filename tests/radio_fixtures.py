"""Radio test fixtures: one CBR MP3 tone, encoded once per session, for the loopback mounts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kithara_cli.media.encode import encode_file

BITRATE = 128_000


@pytest.fixture(scope="session")
def radio_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("radio")
    encode_file(root / "tone.mp3", 12.0, "mp3", bitrate=BITRATE)
    encode_file(root / "short.mp3", 2.0, "mp3", bitrate=BITRATE)
    return root


@pytest.fixture(scope="session")
def radio_mp3(radio_root: Path) -> bytes:
    return (radio_root / "tone.mp3").read_bytes()


def read_events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# --- a raw-socket station with a listener limit and a silence switch ---------------------------

ICECAST_OK = (
    b"HTTP/1.0 200 OK\r\nServer: Icecast 2.4.4\r\nContent-Type: audio/mpeg\r\n"
    b"Cache-Control: no-cache, no-store\r\nicy-br:128\r\nicy-name:Raw Station\r\n"
)
SHOUTCAST_OK = b"ICY 200 OK\r\nicy-name:Raw Station\r\nicy-br:128\r\ncontent-type:audio/mpeg\r\n"
# What Icecast 2.4 answers past its listener limit, and SHOUTcast v1 (sc_serv 1.9) when it
# is full or its source is gone: written byte for byte, as no HTTP library would.
ICECAST_FULL = (
    b"HTTP/1.0 403 Forbidden\r\nServer: Icecast 2.4.4\r\nContent-Type: text/html\r\n\r\n"
    b"<b>too many listeners</b>"
)
SHOUTCAST_FULL = (
    b"ICY 401 Service Unavailable\r\n"
    b"icy-notice1:<BR>SHOUTcast Distributed Network Audio Server/Linux v1.9.2<BR>\r\n"
    b"icy-notice2:The resource requested is currently unavailable<BR>\r\n\r\n"
)


class RawStation:
    """An endless MP3 station on 127.0.0.1, written on raw sockets: ``ok`` (the status line
    and headers, without the blank line) and the audio looped at its real-time pace, ICY
    blocks interleaved every ``metaint`` bytes when the request asks (``titles`` in turn).
    At most ``limit`` listeners at once (a connection counts until its handler sees it
    closed, as a real server's does); the one over it gets ``refusal``. While ``on_air`` is
    cleared, no connection is sent a byte (a source gone quiet; a new connection still gets
    its headers). ``drop_after``: audio bytes a connection gets before it is closed (a relay
    restarting, a mobile listener's hand-over). ``heads``: every request head; ``most``: the most listeners at once.
    ``blocks``: each block's whole text (``StreamUrl='...';`` alone, say), in turn, instead of
    ``StreamTitle='<title>';`` made of ``titles``."""

    def __init__(
        self,
        audio: bytes,
        *,
        ok: bytes = ICECAST_OK,
        limit: int | None = None,
        refusal: bytes = ICECAST_FULL,
        metaint: int = 0,
        titles: tuple[bytes, ...] = (b"First Song",),
        drop_after: int | None = None,
        blocks: tuple[bytes, ...] = (),
    ) -> None:
        import socket
        import threading

        self.audio, self.ok, self.limit, self.refusal = audio, ok, limit, refusal
        self.metaint, self.titles, self.drop_after = metaint, titles, drop_after
        self.blocks = blocks
        self.on_air = threading.Event()
        self.on_air.set()
        self.heads: list[bytes] = []
        self.active = self.most = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def url(self, path: str = "/stream") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> RawStation:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()

    def _accept(self) -> None:
        import threading

        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: Any) -> None:
        with self._lock:
            self.active += 1
            self.most = max(self.most, self.active)
            over = self.limit is not None and self.active > self.limit
        try:
            with conn:
                head = b""
                while b"\r\n\r\n" not in head:
                    data = conn.recv(4096)
                    if not data:
                        return
                    head += data
                self.heads.append(head)
                if over:
                    conn.sendall(self.refusal)
                    return
                self._broadcast(conn, b"icy-metadata: 1" in head.lower())
        except OSError:
            pass
        finally:
            with self._lock:
                self.active -= 1

    def _broadcast(self, conn: Any, icy: bool) -> None:
        import time

        metaint = self.metaint if icy else 0
        extra = f"icy-metaint:{metaint}\r\n".encode() if metaint else b""
        conn.sendall(self.ok + extra + b"\r\n")
        step = BITRATE // 8 // 20  # a twentieth of a second of audio per send
        pos = sent = blocks = 0
        while not self._stop.is_set():
            if self.drop_after is not None and sent >= self.drop_after:
                return  # (closed by ``_serve``)
            if not self.on_air.wait(0.05):
                continue
            piece = bytearray()
            got = 0
            while got < step:
                take = min(step - got, len(self.audio) - pos)
                if metaint:
                    take = min(take, metaint - sent % metaint)
                piece += self.audio[pos : pos + take]
                pos, sent, got = (pos + take) % len(self.audio), sent + take, got + take
                if metaint and sent % metaint == 0:
                    piece += self._block(blocks)
                    blocks += 1
            conn.sendall(bytes(piece))
            time.sleep(0.05)

    def _block(self, n: int) -> bytes:
        from kithara_cli.server.radio import metadata_block

        if not self.blocks:
            return metadata_block(self.titles[n % len(self.titles)])
        text = self.blocks[n % len(self.blocks)]
        size = -(-len(text) // 16)
        return bytes([size]) + text.ljust(size * 16, b"\0")
