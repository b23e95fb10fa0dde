"""``kithara fetch`` and what it leaves on the local side when things go wrong there or halfway.

Real loopback servers and the CLI in a subprocess, as in test_s10_fetch_lies.py: bytes no run
could resume are not left beside --out; a disk with no room at all, a state file that cannot
be true, ``-o -`` and the help's word on --out each end in a clean line or a whole file.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import signal
import subprocess
from pathlib import Path

import pytest

import hls_fixtures
from conftest import KITHARA, assert_clean_failure, fetch_cli, run_cli
from hls_fixtures import popen_fetch, wait_for
from kithara_cli import crash
from kithara_cli.file.state import part_paths
from kithara_cli.server import Faults, MediaServer

hls_media = hls_fixtures.hls_media
hls_server = hls_fixtures.hls_server

SIZE = 600_000
DATA = random.Random(1011).randbytes(SIZE)


fetch = fetch_cli


def _leave_partial(out: Path, url: str, total: int, have: int) -> None:
    """A .part and state as an interrupted run leaves them: ``have`` bytes of ``total``."""
    part, state = part_paths(out)
    part.write_bytes(DATA[:have])
    state.write_text(
        json.dumps(
            {
                "url": url,
                "total": total,
                "etag": None,
                "last_modified": None,
                "ranges": [[0, have]],
                "kind": "progressive",
                "extra": {},
                "version": 1,
            }
        )
    )


# --- nothing kept that no later run could resume ----------------------------------------------

UNIDENTIFIABLE = Faults(no_content_length=True, no_validators=True, ignore_range=True)


def test_a_cut_body_of_no_known_version_leaves_nothing_beside_out(
    server: MediaServer, tmp_path: Path
) -> None:
    """Chunked, no ETag, no Last-Modified, no Range, cut mid-chunk on every try: exit 3.
    Was: FILE.part and FILE.kithara.json left behind, which the next run throws away
    unread (bytes of a version nothing identifies are never resumed onto)."""
    (server.root / "cut.bin").write_bytes(DATA)
    server.set_faults("cut.bin", dataclasses.replace(UNIDENTIFIABLE, close_after=100_000))
    out = tmp_path / "out.bin"
    assert_clean_failure(fetch(server.url("cut.bin"), out, "-q"), out, code=3)
    assert list(tmp_path.iterdir()) == []


def test_sigterm_on_a_body_of_no_known_version_says_nothing_was_kept(
    server: MediaServer, tmp_path: Path
) -> None:
    (server.root / "slow.bin").write_bytes(DATA)
    server.set_faults("slow.bin", dataclasses.replace(UNIDENTIFIABLE, rate_per_conn=100_000))
    out = tmp_path / "out.bin"
    part, _ = part_paths(out)
    proc = popen_fetch(server.url("slow.bin"), "--out", str(out))
    try:
        wait_for(lambda: part.exists() and part.stat().st_size > 100_000, what="some bytes")
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 143
    assert "kept for resuming" not in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_help_says_out_is_required_as_it_is() -> None:
    """Was: '--out FILE  The file to write (default: named after the URL)', yet every fetch
    without it stops at 'error: --out FILE is required'."""
    shown = " ".join(run_cli("fetch", "--help", env={"COLUMNS": "200"}).stdout.split())
    assert "named after the URL" not in shown
    assert "The file to write (required, except with --list)" in shown
    proc = run_cli("fetch", "http://127.0.0.1:9/a.mp3")
    assert proc.returncode == 2 and "--out FILE is required" in proc.stderr


# --- a disk with no room at all ------------------------------------------------------------------


def _no_room() -> None:
    """A disk that takes no byte, for this process: every write fails (EFBIG), none kills it."""
    import resource

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


def _run_with_no_room(*args: str, env: dict[str, str] | None = None):
    return subprocess.run(
        [*KITHARA, *args],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_no_room,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("path", ["progressive", "ts/master.m3u8"])
def test_a_disk_with_no_room_at_all_is_exit_6_not_a_traceback(
    hls_server: MediaServer, tmp_path: Path, path: str
) -> None:
    """Was: the lock file's pid write raised OSError, the crash log could not be written
    either, and ~80 lines of traceback reached the user (exit 1), the lock file left behind."""
    if path == "progressive":
        (hls_server.root / "misc" / "s10-blob.bin").write_bytes(DATA)
        path = "misc/s10-blob.bin"
    out = tmp_path / "out.bin"
    proc = _run_with_no_room("fetch", hls_server.url(path), "-o", str(out))
    assert_clean_failure(proc, out, code=6)
    assert "cannot write" in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_crash_with_no_room_for_its_log_is_still_one_line(tmp_path: Path) -> None:
    """Was: the crash log's write failing on close escaped the crash reporter: a traceback."""
    proc = _run_with_no_room(
        "play",
        "nothing.mp3",
        env={crash.TEST_CRASH_ENV: "main", crash.STATE_ENV: str(tmp_path)},
    )
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].endswith("no crash log could be written"), lines[0]
    assert list(tmp_path.iterdir()) == []  # not an empty log either


# --- a state file that does not describe the .part ---------------------------------------------

BAD_STATES: dict[str, object] = {
    "ranges-not-pairs": {"ranges": "abc"},
    "total-negative": {"total": -3},
    "total-a-string": {"total": str(SIZE)},
    "etag-a-number": {"etag": 5},
    "not-an-object": [1, 2],
    "ranges-past-the-part": {"ranges": [[0, SIZE]]},  # the .part holds 1000 bytes
}


@pytest.mark.parametrize("bad", list(BAD_STATES))
def test_a_state_file_that_cannot_be_true_is_started_over(
    server: MediaServer, tmp_path: Path, bad: str
) -> None:
    """Was: a crash line (exit 1) on every run until the user deleted the files by hand, or,
    with ranges the .part does not hold, exit 0 and a file of zeros after byte 1000."""
    (server.root / "state.bin").write_bytes(DATA)
    out = tmp_path / "out.bin"
    url = server.url("state.bin")
    _leave_partial(out, url, SIZE, 1000)
    part, state = part_paths(out)
    change = BAD_STATES[bad]
    saved = json.loads(state.read_text())
    state.write_text(json.dumps({**saved, **change} if isinstance(change, dict) else change))
    proc = fetch(url, out, "-q", "-c", "1")
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == DATA
    assert not part.exists() and not state.exists()


def test_out_dash_is_refused_not_a_file_named_dash(server: MediaServer, tmp_path: Path) -> None:
    """``-o -`` reads as standard output (curl, wget); kithara cannot stream a fetch there
    (it resumes and writes parts out of order). Was: exit 0 and a file named '-' in the
    working directory. A path that ends in it (``$PWD/-``) still names that file."""
    (server.root / "dash.bin").write_bytes(DATA)
    proc = run_cli("fetch", server.url("dash.bin"), "-o", "-", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "standard output" in proc.stderr and proc.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []
    proc = run_cli("fetch", server.url("dash.bin"), "-o", str(tmp_path / "-"), "-q")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "-").read_bytes() == DATA
