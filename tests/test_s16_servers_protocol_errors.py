"""Servers whose bytes are not HTTP, told apart: no response at all, a bad status line, an
illegal header line, a body cut short, a malformed chunk.

Was: every one of them (httpx's RemoteProtocolError) read "connection closed early" and was
retried to the end of the budget, a status line the server will never send right included.
Now (curl tells them apart too: "Empty reply from server", "Weird server reply", "transfer
closed with N bytes remaining", "Illegal or missing hexadecimal sequence in chunked-encoding"):
one line each, saying which; a malformed head is tried once more on a new connection (a
reused one may hold a previous body's excess) and given up; the others are retried.
"""

from __future__ import annotations

import socket
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import run_cli

BODY = b"\xff\xfb\x90\x00" * 2000
CASES = {
    "empty": b"",
    "status": b"HTTP/1.1 2OO OK\r\nContent-Length: 3\r\n\r\nabc",
    "header": b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nNot A Header\r\n\r\nabc",
    "short": b"HTTP/1.1 200 OK\r\nContent-Type: audio/mpeg\r\nContent-Length: 100000\r\n\r\n"
    + BODY,
    "chunk": b"HTTP/1.1 200 OK\r\nContent-Type: audio/mpeg\r\nTransfer-Encoding: chunked\r\n\r\n"
    + b"%x\r\n" % len(BODY)
    + BODY
    + b"\r\nzz\r\n"
    + BODY,
}


class _Raw:
    """Answers each connection with the canned bytes its path names, then closes it."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.connections: Counter[str] = Counter()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            head = b""
            while b"\r\n\r\n" not in head:
                part = conn.recv(65536)
                if not part:
                    return
                head += part
            case = head.split(b" ", 2)[1].decode().strip("/").split(".")[0]
            self.connections[case] += 1
            conn.sendall(CASES[case])


@pytest.fixture(scope="module")
def raw() -> Iterator[_Raw]:
    server = _Raw()
    yield server
    server.sock.close()


EXPECT = {
    "empty": ("the server closed the connection without a response", 4),
    "status": ("not a valid HTTP response (illegal status line: b'HTTP/1.1 2OO OK')", 2),
    "header": ("not a valid HTTP response (illegal header line: b'Not A Header')", 2),
    "short": ("the body broke off (", 4),
    "chunk": ("the body broke off (illegal chunk header: b'zz\\r\\n')", 4),
}


@pytest.mark.parametrize("case", sorted(EXPECT))
def test_fetch_names_the_fault_in_one_line(raw: _Raw, case: str, tmp_path: Path) -> None:
    out = tmp_path / "out.mp3"
    proc = run_cli("fetch", f"{raw.base}/{case}.mp3", "--out", str(out), "--retries", "4")
    said, attempts = EXPECT[case]
    lines = [line for line in proc.stderr.splitlines() if "error" in line]
    assert proc.returncode == 3, proc.stderr
    assert len(lines) == 1 and said in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr and not out.exists()
    assert raw.connections[case] == attempts, (case, raw.connections)


def test_the_faults_read_differently(raw: _Raw, tmp_path: Path) -> None:
    """Each its own line (was: "connection closed early" for every one)."""
    seen = set()
    for case in ("empty", "status", "short", "chunk"):
        proc = run_cli(
            "play", f"{raw.base}/{case}.mp3", "--output", "null", "--no-ui", "--retries", "0",
            env={"KITHARA_CACHE": "off"}, timeout=60,
        )  # fmt: skip
        assert proc.returncode == 3, proc.stderr
        seen.add(proc.stderr.strip().splitlines()[-1].split("(")[0])
    assert len(seen) == 3, seen  # no response; not HTTP; the body broke off (short, chunk)
