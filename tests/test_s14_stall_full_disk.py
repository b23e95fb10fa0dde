"""A full disk (ENOSPC) or a file-size limit (EFBIG) keeps what was downloaded beside --out.

Before: any fatal error dropped the .part and its resume state, a full disk too, so a resumed
fetch that ran out of room threw away what earlier runs had downloaded, and after freeing
space the user started from zero (curl -C -, wget -c and aria2 keep the partial file). Now:
one line, exit 6, nothing at --out, the .part and its state kept; the same command, once there
is room, resumes to the same bytes. The "disk" is RLIMIT_FSIZE in the child (real EFBIG from
the kernel); ``save_state`` meets a real ENOSPC from /dev/full.
"""

from __future__ import annotations

import os
import re
import resource
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import hls_fixtures
from conftest import KITHARA, sha256
from hls_fixtures import HlsMedia, expected_bytes, segments_written
from kithara_cli.file.state import ResumeState, load_state, part_paths, save_state
from kithara_cli.server import Faults, MediaServer

hls_media = hls_fixtures.hls_media
hls_server = hls_fixtures.hls_server

CUT = 600_000  # the first run's connection closes after this many bytes


def _limited(max_bytes: int) -> Callable[[], None]:
    """preexec_fn: no file of the child grows past ``max_bytes`` (writes fail with EFBIG)."""

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))

    return limit


def _fetch(
    url: str, out: Path, *args: str, limit: int | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*KITHARA, "fetch", url, "-o", str(out), "-c", "1", *args],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_limited(limit) if limit is not None else None,
        env={**os.environ, "NO_COLOR": "1"},
        stdin=subprocess.DEVNULL,
    )


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


def _kept(out: Path) -> int:
    """Bytes the resume state beside ``out`` says are in its .part."""
    state = load_state(part_paths(out)[1])
    assert state is not None
    return sum(b - a for a, b in state.ranges)


def test_a_full_disk_in_a_resumed_fetch_keeps_every_run_s_bytes(
    server: MediaServer, blob_root: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.bin"
    part, state_path = part_paths(out)
    url = server.url("medium.bin")  # 3 MB of random bytes
    # Run 1: the connection is cut and not retried: a network failure, the .part kept.
    server.set_faults("medium.bin", Faults(close_after=CUT, faults_times=1))
    first = _fetch(url, out, "--retries", "1")
    assert first.returncode == 3, first.stderr
    first_kept = _kept(out)
    assert 0 < first_kept <= CUT
    # Run 2 resumes it and fills the "disk" at 2 MB.
    resumed = _fetch(url, out, limit=2_000_000)
    lines = _error_lines(resumed.stderr)
    assert resumed.returncode == 6, resumed.stderr
    errors = [line for line in lines if line.startswith("kithara: error: ")]
    assert errors == lines[-1:] and "cannot write" in errors[0], lines
    assert "Traceback" not in resumed.stderr
    assert not out.exists()  # nothing half-written at --out
    assert part.exists() and state_path.exists(), sorted(p.name for p in tmp_path.iterdir())
    second_kept = _kept(out)
    assert second_kept > first_kept  # run 1's bytes, and run 2's up to the limit
    assert f"kept {second_kept} bytes in out.bin.part" in errors[0]
    # Room again: the same command resumes from there to the very same bytes.
    done = _fetch(url, out)
    assert done.returncode == 0, done.stderr
    said = re.search(r"resuming: (\d+) bytes already on disk", done.stderr)
    assert said is not None and int(said.group(1)) == second_kept, done.stderr
    assert sha256(out) == sha256(blob_root / "medium.bin")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]


def test_a_first_fetch_that_fills_the_disk_resumes_when_there_is_room(
    server: MediaServer, blob_root: Path, tmp_path: Path
) -> None:
    """Parallel parts, a limit they all run into: exit 6, one line; then byte-identical."""
    out = tmp_path / "song.bin"
    url = server.url("big.bin")  # 16 MB
    full = subprocess.run(
        [*KITHARA, "fetch", url, "-o", str(out), "-c", "4"],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_limited(5_000_000),
        env={**os.environ, "NO_COLOR": "1"},
        stdin=subprocess.DEVNULL,
    )
    lines = _error_lines(full.stderr)
    assert full.returncode == 6, full.stderr
    assert len(lines) == 1 and lines[0].startswith("kithara: error: cannot write"), lines
    assert not out.exists()
    kept = _kept(out)
    assert kept > 0
    done = _fetch(url, out, "-c", "4")
    assert done.returncode == 0, done.stderr
    assert f"resuming: {kept} bytes already on disk" in done.stderr
    assert sha256(out) == sha256(blob_root / "big.bin")


def test_an_hls_fetch_that_fills_the_disk_keeps_its_segments_to_resume(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    """The same for a playlist: the segments written whole stay in the .part (before: it and
    the state were dropped with any fatal error, a full disk too)."""
    out = tmp_path / "out.ts"
    part, state_path = part_paths(out)
    url = hls_server.url("ts/master.m3u8")
    whole = expected_bytes(hls_media.ts, 1)  # the 128k variant, "best"
    hls_server.set_faults("*.ts", Faults(latency=0.1))  # a state save between segments
    full = _fetch_hls(url, out, limit=len(whole) // 2)
    lines = _error_lines(full.stderr)
    assert full.returncode == 6, full.stderr
    errors = [line for line in lines if line.startswith("kithara: error: ")]
    assert errors == lines[-1:] and "cannot write" in errors[0], lines
    assert "run the same command to resume" in errors[0]
    assert not out.exists() and part.exists()
    written = segments_written(state_path)
    assert written > 0
    hls_server.clear_faults()
    done = _fetch_hls(url, out)
    assert done.returncode == 0, done.stderr
    assert "resuming" in done.stderr
    assert out.read_bytes() == whole
    assert not part.exists() and not state_path.exists()


def _fetch_hls(url: str, out: Path, limit: int | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*KITHARA, "fetch", url, "-o", str(out), "--segments", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_limited(limit) if limit is not None else None,
        env={**os.environ, "NO_COLOR": "1"},
        stdin=subprocess.DEVNULL,
    )


def test_the_resume_state_is_rewritten_in_place_when_the_disk_has_no_room(
    tmp_path: Path,
) -> None:
    """No room for the new state file (its .tmp is /dev/full: a real ENOSPC): the state is
    written over the old one, so the bytes it lists stay resumable (before: the save failed
    and the state on disk lagged behind the .part, or was missing)."""
    _, state_path = part_paths(tmp_path / "out.bin")
    url = "http://127.0.0.1:1/a.bin"
    save_state(state_path, ResumeState(url=url, total=1000, etag='"e"', ranges=[[0, 100]]))
    tmp = state_path.with_name(state_path.name + ".tmp")
    tmp.symlink_to("/dev/full")
    save_state(state_path, ResumeState(url=url, total=1000, etag='"e"', ranges=[[0, 700]]))
    state = load_state(state_path)
    assert state is not None and state.ranges == [[0, 700]]
    assert not tmp.exists() and not tmp.is_symlink()  # nothing half-written left beside it
