"""A file served without a length is cached too (session 16).

Found here: a progressive file whose origin sends no Content-Length (a podcast host or a
dynamic origin answering ``Transfer-Encoding: chunked``, an old server closing the
connection at the end) was never kept: ``fetch`` or ``play`` it twice and the second run
downloaded it all again, however fresh it was. It is now recorded piece by piece as it comes
(never held in memory), unseen by lookups until its body ends; then it is an entry of the
length it had. A body cut before its end, or an ICY answer (a station), is not kept.
Found with it: two runs recording one such body at once left a copy with a hole at its
start; a run killed while recording left bytes no lookup finds, counted against the cap for
good; and one larger than the cap pushed every other entry out and stayed over the cap.

The origins are small stdlib servers on 127.0.0.1 that frame their bodies as chunks.
"""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import run_cli
from kithara_cli.media.encode import encode_file
from kithara_cli.server import MediaServer
from test_s14_cache_origins import ENV, YEAR_AGO


@pytest.fixture(scope="module")
def song(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A two-minute MP3 (1.9 MB: sent in about 60 chunks), encoded by PyAV."""
    path = tmp_path_factory.mktemp("unsized") / "episode.mp3"
    encode_file(path, 120.0, "mp3")
    return path.read_bytes()


@dataclass
class Chunked:
    """An origin that sends ``body`` chunked, without Content-Length, Range ignored;
    ``cut``: it stops half way and closes (no last chunk)."""

    body: bytes
    headers: dict[str, str]
    cut: bool = False
    pace: float = 0.0  # seconds between chunks
    seen: list[dict[str, str]] = field(default_factory=list)
    url: str = ""


def _handler(origin: Chunked) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            origin.seen.append({k.lower(): v for k, v in self.headers.items()})
            self.send_response(200)
            self.send_header("Content-Type", "audio/mpeg")
            for name, value in origin.headers.items():
                self.send_header(name, value)
            self.send_header("Transfer-Encoding", "chunked")
            if origin.cut:
                self.send_header("Connection", "close")
            self.end_headers()
            body = origin.body[: len(origin.body) // 2] if origin.cut else origin.body
            for at in range(0, len(body), 32768):
                piece = body[at : at + 32768]
                self.wfile.write(b"%x\r\n%b\r\n" % (len(piece), piece))
                time.sleep(origin.pace)
            if not origin.cut:
                self.wfile.write(b"0\r\n\r\n")
            self.close_connection = origin.cut

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def chunked(song: bytes) -> Iterator[Chunked]:
    made = Chunked(song, {"ETag": '"c1"', "Last-Modified": YEAR_AGO})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(made))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    made.url = f"http://127.0.0.1:{server.server_port}/episode.mp3"
    try:
        yield made
    finally:
        server.shutdown()
        server.server_close()


def _fetch(url: str, out: Path, cache: Path, *args: str) -> tuple[int, str]:
    if out.exists():
        out.unlink()
    proc = run_cli("fetch", url, "--out", str(out), "--cache-dir", str(cache), *args, env=ENV)
    return proc.returncode, proc.stderr


def test_a_file_without_a_length_is_fetched_once(chunked: Chunked, tmp_path: Path) -> None:
    cache, out = tmp_path / "cache", tmp_path / "episode.mp3"
    code, err = _fetch(chunked.url, out, cache)
    assert code == 0, err
    assert out.read_bytes() == chunked.body and len(chunked.seen) == 1
    # Fresh for a day (a tenth of its Last-Modified's age): no request at all.
    code, err = _fetch(chunked.url, out, cache)
    assert code == 0, err
    assert out.read_bytes() == chunked.body and len(chunked.seen) == 1
    proc = run_cli("cache", "ls", "--cache-dir", str(cache), env=ENV)
    assert "100%" in proc.stdout and chunked.url in proc.stdout
    code, err = _fetch(chunked.url, out, cache, "--offline")
    assert code == 0, err
    assert out.read_bytes() == chunked.body


def test_a_file_without_a_length_is_played_from_the_cache(chunked: Chunked, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    args = ("play", chunked.url, "--output", "null", "--length", "0.5", "--no-ui")
    proc = run_cli(*args, "--cache-dir", str(cache), env=ENV)
    assert proc.returncode == 0, proc.stderr
    assert len(chunked.seen) == 1
    proc = run_cli(*args, "--cache-dir", str(cache), env=ENV)
    assert proc.returncode == 0, proc.stderr
    assert len(chunked.seen) == 1  # played from the cache, unasked


def test_a_cut_body_without_a_length_is_not_kept(chunked: Chunked, tmp_path: Path) -> None:
    """Where it ended is not where the file ends: nothing is kept, the next run asks."""
    cache, out = tmp_path / "cache", tmp_path / "episode.mp3"
    chunked.cut = True
    code, _ = _fetch(chunked.url, out, cache, "--retries", "0")
    assert code != 0
    chunked.cut = False
    n = len(chunked.seen)
    code, err = _fetch(chunked.url, out, cache)
    assert code == 0, err
    assert out.read_bytes() == chunked.body and len(chunked.seen) == n + 1
    proc = run_cli("cache", "ls", "--cache-dir", str(cache), env=ENV)
    assert "100%" in proc.stdout


def test_two_runs_recording_one_file_without_a_length_keep_it_whole(
    chunked: Chunked, tmp_path: Path
) -> None:
    """Two kitharas fetch it at once into one cache: the second's bytes, still of no known
    length when the first's ended and became an entry, replaced that entry from where it had
    got to: a copy with a hole at its start, fetched whole again by the next run."""
    import subprocess
    import sys

    cache = tmp_path / "cache"
    chunked.pace = 0.05  # about 3 s for the file: the second run starts during the first
    args = ["fetch", chunked.url, "--out", str(tmp_path / "a"), "--cache-dir", str(cache)]
    first = subprocess.Popen(
        [sys.executable, "-m", "kithara_cli", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**__import__("os").environ, **ENV},
    )
    time.sleep(1.0)
    code, err = _fetch(chunked.url, tmp_path / "b", cache)
    assert first.wait(timeout=60) == 0 and code == 0, err
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes() == chunked.body
    n = len(chunked.seen)
    assert n == 2
    code, err = _fetch(chunked.url, tmp_path / "c", cache)
    assert code == 0, err
    assert (tmp_path / "c").read_bytes() == chunked.body and len(chunked.seen) == n


def test_what_a_killed_run_was_recording_is_swept(chunked: Chunked, tmp_path: Path) -> None:
    """A run killed (SIGKILL, a crash) while it recorded a body of no length left it in the
    index for good: found by no lookup, counted in the size, listed as ``?``. The next run
    that opens the cache removes it (one still being recorded by a live run stays)."""
    import os
    import signal
    import subprocess
    import sys

    cache = tmp_path / "cache"
    chunked.pace = 0.05
    args = ["fetch", chunked.url, "--out", str(tmp_path / "a"), "--cache-dir", str(cache)]
    run = subprocess.Popen(
        [sys.executable, "-m", "kithara_cli", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **ENV},
    )
    try:
        listed = ""
        deadline = time.monotonic() + 20
        while "?" not in listed and time.monotonic() < deadline and run.poll() is None:
            time.sleep(0.1)
            listed = run_cli("cache", "ls", "--cache-dir", str(cache), env=ENV).stdout
        assert "?" in listed, listed  # being recorded: listed, its length not known yet
    finally:
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=30)
    proc = run_cli("cache", "info", "--json", "--cache-dir", str(cache), env=ENV)
    import json

    info = json.loads(proc.stdout)
    assert info["entries"] == 0 and info["size"] == 0, info
    assert not [f for f in (cache / "data").rglob("*") if f.is_file()]


def test_a_file_without_a_length_larger_than_the_cap_is_not_kept(
    chunked: Chunked, server: MediaServer, tmp_path: Path
) -> None:
    """As a file of known length larger than the cap: not kept, and it pushes nothing out
    (it pushed out everything else and stayed, the cache over its cap)."""
    cache, small = tmp_path / "cache", server.url("small.bin")  # 200 kB, with a length
    code, err = _fetch(small, tmp_path / "small.bin", cache, "--cache-size", "1M")
    assert code == 0, err
    code, err = _fetch(chunked.url, tmp_path / "episode.mp3", cache)  # 1.9 MB
    assert code == 0, err
    assert (tmp_path / "episode.mp3").read_bytes() == chunked.body
    listed = run_cli("cache", "ls", "--cache-dir", str(cache), env=ENV).stdout
    assert small in listed and chunked.url not in listed, listed
    import json

    proc = run_cli("cache", "info", "--json", "--cache-dir", str(cache), env=ENV)
    assert json.loads(proc.stdout)["size"] == 200_000
    assert sum(f.stat().st_size for f in (cache / "data").rglob("*") if f.is_file()) == 200_000
    # With room for it, it is kept beside the other.
    code, err = _fetch(chunked.url, tmp_path / "episode.mp3", cache, "--cache-size", "4M")
    assert code == 0, err
    listed = run_cli("cache", "ls", "--cache-dir", str(cache), env=ENV).stdout
    assert small in listed and chunked.url in listed, listed


def _endless(body: bytes, icy: bool) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        """A station's mount: the tone over and over, chunked, no end (ICY headers or none,
        as a plain HTTP streamer sends)."""

        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "audio/mpeg")
            if icy:
                self.send_header("icy-name", "Endless FM")
                self.send_header("icy-br", "128")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                while True:
                    for at in range(0, len(body), 32768):
                        piece = body[at : at + 32768]
                        self.wfile.write(b"%x\r\n%b\r\n" % (len(piece), piece))
            except OSError:  # the listener left
                self.close_connection = True

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.mark.parametrize("icy", [True, False])
def test_an_endless_stream_is_not_kept(song: bytes, tmp_path: Path, icy: bool) -> None:
    cache = tmp_path / "cache"
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _endless(song, icy))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/live.mp3"
    try:
        args = ("play", url, "--output", "null", "--length", "1", "--no-ui")
        proc = run_cli(*args, "--cache-dir", str(cache), env=ENV)
    finally:
        server.shutdown()
        server.server_close()
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("cache", "info", "--json", "--cache-dir", str(cache), env=ENV)
    assert proc.returncode == 0, proc.stderr
    import json

    info = json.loads(proc.stdout)
    assert info["entries"] == 0 and info["size"] == 0, info
    assert not [f for f in (cache / "data").rglob("*") if f.is_file()]
