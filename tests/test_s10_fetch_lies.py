"""``kithara fetch`` against servers whose headers contradict themselves or the file on disk.

Each case is a real loopback server (``kithara_cli.server``: a route handler where the lie is in
the headers, fault knobs where it is in the file serving) and the CLI in a subprocess. What must
hold: the output is one whole version, or one clean error line with a documented code and
nothing at --out; never bytes the server's own headers do not place.
"""

from __future__ import annotations

import random
from pathlib import Path

import hls_fixtures
from conftest import run_cli
from kithara_cli.server import MediaServer

hls_media = hls_fixtures.hls_media
hls_server = hls_fixtures.hls_server

SIZE = 600_000
DATA = random.Random(1010).randbytes(SIZE)
ETAG = '"s10-one"'
Handler = tuple[int, dict[str, str], bytes]


def fetch(url: str, out: Path, *args: str):
    return run_cli("fetch", url, "--out", str(out), "--retries", "2", *args, timeout=60)


def assert_clean_failure(proc, out: Path, code: int) -> None:
    assert proc.returncode == code, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("kithara: error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()


# --- a 206 whose body runs past the end of its Content-Range ---------------------------------


def test_bytes_past_a_206s_content_range_are_never_written(
    server: MediaServer, tmp_path: Path
) -> None:
    """The first answer says ``bytes 0-999`` and sends 1000 file bytes, then zeros to the size
    (its Content-Length counts them); later answers are whole 200s of the same version.

    Was: the zeros were written as bytes 1000 onwards, exit 0 (a spliced file). Now only the
    bytes the Content-Range places are kept, and the rest comes from the next request."""
    calls = [0]

    def handler(path: str, query: dict[str, str], now: float) -> Handler:
        calls[0] += 1
        if calls[0] == 1:
            body = DATA[:1000] + bytes(SIZE - 1000)
            return 206, {"Content-Range": f"bytes 0-999/{SIZE}", "ETag": ETAG}, body
        return 200, {"ETag": ETAG}, DATA

    server.add_route("overrun.bin", handler)
    out = tmp_path / "out.bin"
    proc = fetch(server.url("overrun.bin"), out, "-q", "-c", "1")
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == DATA
    assert calls[0] >= 2


def test_a_206_that_always_overruns_its_range_fails_cleanly(
    server: MediaServer, tmp_path: Path
) -> None:
    """Every answer is ``bytes 0-999`` with zeros after: nothing past byte 1000 can be placed,
    so the fetch ends in one error line (exit 3, as a body cut short), not in a file."""

    def handler(path: str, query: dict[str, str], now: float) -> Handler:
        body = DATA[:1000] + bytes(SIZE - 1000)
        return 206, {"Content-Range": f"bytes 0-999/{SIZE}", "ETag": ETAG}, body

    server.add_route("overrun.bin", handler)
    out = tmp_path / "out.bin"
    assert_clean_failure(fetch(server.url("overrun.bin"), out, "-q", "-c", "1"), out, code=3)
