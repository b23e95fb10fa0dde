"""``fetch`` and ``play`` against origins that misbehave as real ones do, where the package's
server cannot be made to: a weak ETag as the only sign of a new version, a body that hangs
after a buffer's worth on every request.

Each origin is a small stdlib server on loopback (real sockets, real Range handling), the CLI
runs in a subprocess. What must hold: byte-identical output with exit 0, or one error line
with a documented code and nothing at --out.
"""

from __future__ import annotations

import http.server
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import run_cli
from kithara_cli.errors import NetworkError
from kithara_cli.file.state import ResumeState, part_paths, save_state
from kithara_cli.media import encode_file

SIZE = 3_000_000  # three parallel parts of 1 MiB and more
RNG = random.Random(1414)
OLD = RNG.randbytes(SIZE)
NEW = RNG.randbytes(SIZE)  # the same length: only the ETag tells them apart


@dataclass(frozen=True)
class Version:
    data: bytes
    etag: str


Script = Callable[[int, int], Version]
"""(the request's number from 1, the first byte it asks) -> the version it gets."""


class Origin:
    """A file server whose answers a test scripts: ``pick`` chooses each request's version,
    ``stall_after`` the bytes each body sends before it hangs (``hang``: which requests do,
    by the same arguments; None: all). Ranges are honoured; If-Range is ignored (a weak ETag
    may not be one, RFC 9110 13.1.5; a proxy may drop it)."""

    def __init__(
        self,
        pick: Script,
        stall_after: int | None = None,
        hang: Callable[[int, int], bool] | None = None,
    ) -> None:
        self.pick = pick
        self.stall_after = stall_after
        self.hang = hang
        self.requests = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def answer(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        asked = re.fullmatch(r"bytes=(\d+)-(\d*)", handler.headers.get("Range") or "")
        first = int(asked.group(1)) if asked is not None else 0
        with self._lock:
            self.requests += 1
            n = self.requests
        version = self.pick(n, first)
        data = version.data
        last = len(data) - 1
        stall = self.stall_after if self.hang is None or self.hang(n, first) else None
        if asked is not None:
            last = min(int(asked.group(2)), last) if asked.group(2) else last
            handler.send_response(206)
            handler.send_header("Content-Range", f"bytes {first}-{last}/{len(data)}")
        else:
            handler.send_response(200)
        handler.send_header("Content-Length", str(last - first + 1))
        handler.send_header("Content-Type", "audio/mpeg")
        handler.send_header("Accept-Ranges", "bytes")
        handler.send_header("ETag", version.etag)
        handler.end_headers()
        body = data[first : last + 1]
        if stall is not None:
            handler.wfile.write(body[:stall])
            handler.wfile.flush()
            self._stop.wait(120)  # hangs, the connection open, until the test ends
            handler.close_connection = True
            return
        try:
            handler.wfile.write(body)
        except OSError:
            pass  # the client went away (it cancelled a part)

    def stop(self) -> None:
        self._stop.set()


@pytest.fixture
def serve() -> Iterator[Callable[[Origin], str]]:
    """Start an origin; its file's URL. Stopped (hanging bodies released) after the test."""
    started: list[tuple[http.server.ThreadingHTTPServer, Origin]] = []

    def start(origin: Origin) -> str:
        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                origin.answer(self)

        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        started.append((httpd, origin))
        return f"http://127.0.0.1:{httpd.server_address[1]}/file.mp3"

    yield start
    for httpd, origin in started:
        origin.stop()
        httpd.shutdown()
        httpd.server_close()


# --- a weak ETag is the only sign of another version ---------------------------------------


def test_a_new_weak_etag_between_parallel_parts_is_never_spliced(
    serve: Callable[[Origin], str], tmp_path: Path
) -> None:
    """nginx behind a filter, or a CDN that weakens tags, sends ``W/"..."`` and nothing else
    but the length. The file is replaced (same length) after the first two requests.

    Was: exit 0 with a file of both versions (part one of the old, the rest of the new): the
    weak tag was dropped, and the length agreed. Now the differing tags are another version
    (RFC 9110: not even weakly the same), and the fetch starts over: the new file, whole."""
    old, new = Version(OLD, 'W/"old"'), Version(NEW, 'W/"new"')
    origin = Origin(lambda n, _at: old if n <= 2 else new)
    out = tmp_path / "out.mp3"
    proc = run_cli("fetch", serve(origin), "-o", str(out), "-q", "-c", "4")
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == NEW
    assert origin.requests > 3  # the new version was fetched again from its start


def test_the_same_weak_etag_still_fetches_in_parallel(
    serve: Callable[[Origin], str], tmp_path: Path
) -> None:
    """The other side: a weak tag that stays the same is no change (no restart, no error)."""
    origin = Origin(lambda _n, _at: Version(OLD, 'W/"old"'))
    out = tmp_path / "out.mp3"
    proc = run_cli("fetch", serve(origin), "-o", str(out), "-q", "-c", "4")
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == OLD
    assert origin.requests == 3


def test_a_resume_onto_a_new_weak_etag_starts_over(
    serve: Callable[[Origin], str], tmp_path: Path
) -> None:
    """A .part of the old version (as an interrupted run leaves it), then a run that meets
    the new one: a whole new file."""
    new = Version(NEW, 'W/"new"')
    url = serve(Origin(lambda _n, _at: new))
    out = tmp_path / "out.mp3"
    part, state = part_paths(out)
    part.write_bytes(OLD[:1_000_000])
    save_state(
        state,
        ResumeState(url=url, total=SIZE, etag='W/"old"', ranges=[[0, 1_000_000]]),
    )
    proc = run_cli("fetch", url, "-o", str(out), "-q", "-c", "4")
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == NEW
    assert not part.exists() and not state.exists()


@pytest.fixture(scope="module")
def tones(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    """A 40 s MP3 (more than the player's first request) and a damaged copy of its length."""
    path = encode_file(tmp_path_factory.mktemp("s14") / "tone.mp3", 40.0, "mp3")
    data = path.read_bytes()
    other = bytearray(data)
    for i in range(4096, len(other), 997):
        other[i] ^= 0x55
    return data, bytes(other)


def test_play_refuses_a_new_weak_etag_under_it(
    serve: Callable[[Origin], str], tones: tuple[bytes, bytes], tmp_path: Path
) -> None:
    """Play's later ranges (read ahead, or a seek back into bytes fetched after the change)
    come from another version: already-played audio cannot be taken back, so it stops with
    the documented network code and says why. Was: the other version's bytes decoded as if
    they were the same file."""
    first, second = tones
    origin = Origin(lambda n, _at: Version(first, 'W/"1"') if n == 1 else Version(second, 'W/"2"'))
    wav = tmp_path / "out.wav"
    proc = run_cli(
        "play",
        serve(origin),
        "--no-ui",
        "--output",
        f"wav:{wav}",
        timeout=90,
        env={"KITHARA_AUDIO_DEVICE": "none"},
    )
    assert origin.requests >= 2, "the player made one request: nothing was tested"
    assert proc.returncode == NetworkError.exit_code, proc.stderr
    assert "changed" in proc.stderr and "Traceback" not in proc.stderr


# --- a body that hangs after a buffer's worth, every time ------------------------------------


def test_a_server_that_hangs_after_a_few_bytes_every_time_fails_in_bounded_time(
    serve: Callable[[Origin], str], tmp_path: Path
) -> None:
    """Each request sends 1000 bytes, then nothing (a proxy whose backend died, sending what
    it had buffered). Was: every hang counted as progress, so each part resumed up to a
    thousand times, one --timeout each (with the default 20 s: hours per part). Now a hang
    after fewer bytes than the minimum rate owes for the wait is a failed attempt: exit 3
    after the retries, one line, the .part kept for a later run."""
    origin = Origin(lambda _n, _at: Version(OLD, '"old"'), stall_after=1000)
    out = tmp_path / "out.mp3"
    t0 = time.monotonic()
    proc = run_cli(
        "fetch", serve(origin), "-o", str(out), "-q", "--timeout", "1", "--retries", "3", timeout=60
    )
    elapsed = time.monotonic() - t0
    assert proc.returncode == NetworkError.exit_code, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("kithara: error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()
    assert part_paths(out)[0].exists()  # resumable: the bytes that came are kept
    assert elapsed < 30, f"took {elapsed:.0f} s"
    assert origin.requests <= 3 * 3 + 1


# --- a file replaced mid-fetch with the persistent cache on ----------------------------------

LAST_PART = 2 << 20  # where -c 4 cuts the third part of SIZE (parts of 1 MiB)


def _replaced_while_cut(n: int, at: int, switched: list[bool]) -> Version:
    """The old version until the last part is asked; from then on (a moment later, so the
    other parts are under way) the new one, which has another Last-Modified."""
    if at >= LAST_PART and not switched[0]:
        time.sleep(0.3)
        switched[0] = True
    if switched[0]:
        return Version(NEW, '"new"')
    return Version(OLD, '"old"')


@pytest.mark.parametrize(
    "cut", [1 << 20, 0], ids=["a middle part cut short", "the first request cut short"]
)
def test_a_replaced_file_is_never_spliced_from_the_cache(
    serve: Callable[[Origin], str], tmp_path: Path, cut: int
) -> None:
    """The file is replaced while one request (``cut``: the one from that byte) has sent
    half a MiB and hangs; the last part then meets the new version, the fetch drops what it
    has and starts over. The hanging request, cancelled, records its half MiB of the old
    version in the cache as it ends, after the cache dropped the old version.

    Was: the restart was served those bytes from the cache (counted as checked) -- a middle
    part: exit 0 with a file of both versions; the first request: "remote file changed",
    exit 3, though the server was consistent by then. Now a command pinned to a version
    takes no cached bytes of another, and the restart drops what the cut requests kept."""
    switched = [False]
    origin = Origin(
        lambda n, at: _replaced_while_cut(n, at, switched),
        stall_after=512 * 1024,
        hang=lambda n, at: at == cut and not switched[0],
    )
    out = tmp_path / "out.mp3"
    proc = run_cli(
        "fetch",
        serve(origin),
        "-o",
        str(out),
        "-q",
        "-c",
        "4",
        "--cache-dir",
        str(tmp_path / "cache"),
        env={"KITHARA_CACHE": ""},
    )
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == NEW
