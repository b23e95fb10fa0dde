"""The resume file beside an interrupted fetch holds no password, and still resumes.

Found in session 13: ``FILE.kithara.json``, left beside the ``.part`` of an interrupted
``kithara fetch http://user:password@host/...`` (for days, maybe synced with the folder),
stored the URL as given, password and all; an HLS fetch's also stored every segment's URI
(resolved against the playlist's, credentials included) and a digest of them. Now each URL is
kept masked (``***@``); the file belongs to a URL by its masked form, and the validators it
always kept (length, ETag, Last-Modified; a segment's identity) keep a resume from splicing two
versions, as before. A state written before (its URL in the clear) resumes too.
"""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest

import hls_fixtures
from conftest import run_cli, sha256
from hls_fixtures import HlsMedia, expected_bytes, popen_fetch, segments_written, wait_for
from kithara_cli.file.state import ResumeState, load_state, part_paths
from kithara_cli.server import Faults, MediaServer

hls_media = hls_fixtures.hls_media
hls_server = hls_fixtures.hls_server

PASSWORD = "r3sume-pw-q9"
BEST = 1  # the 128k variant, which fetch picks by default


def _with_password(url: str, password: str = PASSWORD) -> str:
    return url.replace("http://", f"http://alice:{password}@", 1)


def _interrupt(proc: subprocess.Popen[str]) -> None:
    """Ctrl-C, as at a terminal: the fetch saves its state and exits 130."""
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err


def _progressive_interrupted(server: MediaServer, url: str, out: Path) -> int:
    """Fetch big.bin slowly, Ctrl-C it past 3 MB: the bytes the state says are in the part."""
    part, state_path = part_paths(out)
    server.set_faults("big.bin", Faults(rate_per_conn=1_000_000))
    proc = popen_fetch(url, "-o", str(out), "-q", "-c", "2")

    def saved() -> int:
        state = load_state(state_path)
        return sum(b - a for a, b in state.ranges) if state else 0

    try:
        wait_for(lambda: saved() > 3_000_000, timeout=30, what="3 MB saved in the state")
    finally:
        _interrupt(proc)
    assert part.exists() and not out.exists()
    server.clear_faults()
    server.stats.reset()
    return saved()


def test_an_interrupted_fetch_keeps_no_password_and_resumes_byte_identical(
    server: MediaServer, blob_root: Path, tmp_path: Path
) -> None:
    url = _with_password(server.url("big.bin"))
    out = tmp_path / "big.bin"
    part, state_path = part_paths(out)
    had = _progressive_interrupted(server, url, out)

    text = state_path.read_text()
    assert PASSWORD not in text and "alice" not in text
    assert json.loads(text)["url"] == f"http://***@127.0.0.1:{server.port}/big.bin"

    done = run_cli("fetch", url, "-o", str(out), "-q")
    assert done.returncode == 0, done.stderr
    assert sha256(out) == sha256(blob_root / "big.bin")
    size = (blob_root / "big.bin").stat().st_size
    assert server.stats.total_bytes < size - had // 2, "resumed, not started over"
    (first, *_) = server.stats.seen("big.bin")
    assert first.header("Authorization") == "Basic YWxpY2U6cjNzdW1lLXB3LXE5"  # still sent
    assert not part.exists() and not state_path.exists()


def test_a_state_an_older_kithara_wrote_in_the_clear_still_resumes(
    server: MediaServer, blob_root: Path, tmp_path: Path
) -> None:
    url = _with_password(server.url("big.bin"))
    out = tmp_path / "big.bin"
    state_path = part_paths(out)[1]
    had = _progressive_interrupted(server, url, out)
    data = json.loads(state_path.read_text())
    state_path.write_text(json.dumps({**data, "url": url}))  # as written before the fix

    done = run_cli("fetch", url, "-o", str(out), "-q")
    assert done.returncode == 0, done.stderr
    assert sha256(out) == sha256(blob_root / "big.bin")
    size = (blob_root / "big.bin").stat().st_size
    assert server.stats.total_bytes < size - had // 2, "resumed, not started over"


def test_a_state_belongs_to_its_url_credentials_aside() -> None:
    state = ResumeState(url="http://***@example.com/a.mp3")
    assert state.belongs_to("http://alice:pw@example.com/a.mp3")
    assert state.belongs_to("http://bob:other@example.com/a.mp3")  # the validators decide
    assert not state.belongs_to("http://alice:pw@example.com/b.mp3")
    assert not state.belongs_to("http://alice:pw@example.org/a.mp3")
    assert not state.belongs_to("http://example.com/a.mp3")  # no credentials: another request
    assert ResumeState(url="http://a:pw@example.com/x").belongs_to("http://a:pw@example.com/x")


@pytest.mark.parametrize("kind", ["ts", "fmp4"])
def test_an_interrupted_hls_fetch_keeps_no_password_and_resumes_byte_identical(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path, kind: str
) -> None:
    """The segments' URIs carry the playlist's credentials (relative URIs resolve to them);
    none reaches the state, and fMP4's init section is still found on resume."""
    ladder = hls_media.ts if kind == "ts" else hls_media.fmp4
    out = tmp_path / f"out.{'ts' if kind == 'ts' else 'mp4'}"
    part, state_path = part_paths(out)
    url = _with_password(hls_server.url(f"{kind}/master.m3u8"))
    hls_server.set_faults("*.ts" if kind == "ts" else "*.m4s", Faults(latency=0.15))
    proc = popen_fetch(url, "-o", str(out), "-q", "--segments", "1")

    try:
        wait_for(lambda: segments_written(state_path) >= 3, what="three segments written")
    finally:
        _interrupt(proc)
    done = segments_written(state_path)
    assert 3 <= done < len(ladder.segments[BEST])
    text = state_path.read_text()
    assert PASSWORD not in text and "alice" not in text
    extra = json.loads(text)["extra"]
    assert all(uri.startswith("http://***@") for uri, _, _ in extra["segments"])
    if kind == "fmp4":
        assert extra["init"][0].startswith("http://***@")

    hls_server.clear_faults()
    hls_server.stats.reset()
    rerun = run_cli("fetch", url, "-o", str(out))
    assert rerun.returncode == 0, rerun.stderr
    assert f"resuming at segment {done}" in rerun.stderr
    assert out.read_bytes() == expected_bytes(ladder, BEST)
    first = ladder.segments[BEST][0].name
    assert not hls_server.stats.requests(f"{kind}/{first}"), "written segments not fetched again"
    assert not part.exists() and not state_path.exists()
