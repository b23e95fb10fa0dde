"""Progressive fetch on the real downloader core against a real loopback server with faults."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import KITHARA, run_cli, sha256
from kithara_cli.dl import Downloader, FetchCmd
from kithara_cli.dl.downloader import memory_sink
from kithara_cli.errors import HttpStatusError, OutputError
from kithara_cli.events import EventBus
from kithara_cli.events.types import (
    BodyResumed,
    BodyStalled,
    Event,
    FirstByte,
    RequestCompleted,
    RequestRetrying,
)
from kithara_cli.file import ProgressiveFetch
from kithara_cli.file.state import part_paths
from kithara_cli.net import NetConfig, RetryPolicy
from kithara_cli.server import Faults, MediaServer

FAULTS: dict[str, Faults] = {
    "clean": Faults(),
    "reset_mid_body": Faults(reset_after=300_000),
    "truncated_body": Faults(close_after=250_000),
    "server_errors": Faults(fail_first=2, fail_status=503, retry_after=0),
    "too_many_requests": Faults(fail_first=1, fail_status=429, retry_after=0),
    "ignores_range": Faults(ignore_range=True),
    "no_content_length": Faults(no_content_length=True),
    "redirect_chain": Faults(redirects=3),
    "slow_first_byte": Faults(first_byte_delay=0.3),
    "stalled_body": Faults(stall_after=200_000, stall_seconds=5, faults_times=2),
    "latency": Faults(latency=0.05),
}


def fetch(
    server: MediaServer,
    path: str,
    out: Path,
    *,
    connections: int,
    bus: EventBus | None = None,
    read_timeout: float = 5.0,
) -> tuple[list[Event], int]:
    bus = bus or EventBus()
    events: list[Event] = []
    bus.subscribe(events.append)
    net = NetConfig(read_timeout=read_timeout)
    retry = RetryPolicy(max_attempts=6, base=0.01, cap=0.05)
    with Downloader(bus, net, max_concurrent=connections, retry=retry) as dl:
        result = ProgressiveFetch(dl, server.url(path), out, connections=connections).run()
    return events, result.downloaded


@pytest.mark.parametrize("connections", [1, 4])
@pytest.mark.parametrize("mode", list(FAULTS))
def test_fetch_is_byte_identical_in_every_fault_mode(
    server: MediaServer, blob_root: Path, tmp_path: Path, mode: str, connections: int
) -> None:
    server.set_faults("medium.bin", FAULTS[mode])
    out = tmp_path / "out.bin"
    read_timeout = 0.5 if mode == "stalled_body" else 5.0
    events, _ = fetch(server, "medium.bin", out, connections=connections, read_timeout=read_timeout)
    assert sha256(out) == sha256(blob_root / "medium.bin")
    part, state = part_paths(out)
    assert not part.exists() and not state.exists()
    kinds = {type(e) for e in events}
    assert RequestCompleted in kinds
    if mode in ("reset_mid_body", "truncated_body", "stalled_body"):
        assert BodyResumed in kinds, "a cut body must be resumed, not restarted"
    if mode in ("server_errors", "too_many_requests"):
        assert RequestRetrying in kinds
    if mode == "stalled_body":
        assert BodyStalled in kinds


def test_parallel_parts_use_ranges(server: MediaServer, blob_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.bin"
    events, downloaded = fetch(server, "big.bin", out, connections=4)
    assert sha256(out) == sha256(blob_root / "big.bin")
    ranged = [r for r in server.stats.requests() if r.range]
    assert len(ranged) >= 4, "four connections should each take ranges of the file"
    assert downloaded == (blob_root / "big.bin").stat().st_size
    firsts = [e for e in events if isinstance(e, FirstByte)]
    assert all(e.partial for e in firsts)


def test_404_fails_and_leaves_nothing(server: MediaServer, tmp_path: Path) -> None:
    out = tmp_path / "out.bin"
    with pytest.raises(HttpStatusError) as info:
        fetch(server, "missing.bin", out, connections=4)
    assert info.value.status == 404
    assert list(tmp_path.iterdir()) == []


def test_resume_after_changed_remote_starts_over(
    server: MediaServer, blob_root: Path, tmp_path: Path
) -> None:
    """A stale .part with validators of another file is thrown away, never spliced."""
    out = tmp_path / "out.bin"
    part, state = part_paths(out)
    part.write_bytes(b"x" * 1000)
    state.write_text(
        json.dumps(
            {
                "url": server.url("medium.bin"),
                "total": 3_000_000,
                "etag": '"someone-else"',
                "last_modified": None,
                "ranges": [[0, 1000]],
                "kind": "progressive",
                "extra": {},
                "version": 1,
            }
        )
    )
    fetch(server, "medium.bin", out, connections=2)
    assert sha256(out) == sha256(blob_root / "medium.bin")


def _bytes_truly_on_disk(part: Path, source: Path, block: int = 65536) -> int:
    """Count bytes of the .part that already equal the source (random data: no false hits)."""
    have = part.read_bytes()
    want = source.read_bytes()
    same = 0
    for i in range(0, min(len(have), len(want)), block):
        a, b = have[i : i + block], want[i : i + block]
        if a == b:
            same += len(a)
    return same


def test_kill_9_then_resume_is_byte_identical_and_cheap(
    server: MediaServer, blob_root: Path, tmp_path: Path
) -> None:
    source = blob_root / "big.bin"
    server.set_faults("big.bin", Faults(rate_per_conn=1_500_000))
    out = tmp_path / "out.bin"
    part, state = part_paths(out)
    cmd = [*KITHARA, "fetch", server.url("big.bin"), "-o", str(out), "-q", "-c", "4"]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        time.sleep(0.1)
        if part.exists() and part.stat().st_size > 0 and state.exists():
            ranges = json.loads(state.read_text())["ranges"]
            if sum(b - a for a, b in ranges) > 5_000_000:
                break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert not out.exists(), "nothing may appear at --out before the download is whole"
    on_disk = _bytes_truly_on_disk(part, source)
    assert on_disk > 4_000_000
    server.clear_faults()
    server.stats.reset()
    done = run_cli("fetch", server.url("big.bin"), "-o", str(out), "-q", "-c", "4")
    assert done.returncode == 0, done.stderr
    assert sha256(out) == sha256(source)
    sent_again = server.stats.total_bytes
    size = source.stat().st_size
    refetched = sent_again - (size - on_disk)
    assert refetched < 0.10 * on_disk, f"re-downloaded {refetched} of {on_disk} bytes on disk"
    assert not part.exists() and not state.exists()


def test_sigterm_keeps_partial_and_exits_non_zero(server: MediaServer, tmp_path: Path) -> None:
    server.set_faults("big.bin", Faults(rate_per_conn=1_000_000))
    out = tmp_path / "out.bin"
    part, state = part_paths(out)
    proc = subprocess.Popen(
        [*KITHARA, "fetch", server.url("big.bin"), "-o", str(out), "-q"],
        stdin=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not (part.exists() and part.stat().st_size > 500_000):
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=15)
    assert proc.returncode == 143  # SIGTERM: 128 + 15
    assert err.strip().count("\n") == 0 and "interrupted" in err
    assert part.exists() and state.exists() and not out.exists()


# --- bad input: one line on stderr, non-zero exit, nothing at --out -------------------------


def _assert_one_line_error(proc: subprocess.CompletedProcess[str], *, contains: str) -> None:
    assert proc.returncode not in (0, None)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("kithara: error: ")
    assert contains.lower() in lines[0].lower()
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("url", "contains"),
    [
        ("ftp://example.com/a.mp3", "unsupported URL scheme"),
        ("http://", "no host"),
        ("not a url", "unsupported URL scheme"),
        ("http://kithara-no-such-host.invalid/a.mp3", "cannot resolve host"),
        ("http://127.0.0.1:9/a.mp3", "connection refused"),
    ],
)
def test_bad_urls(url: str, contains: str, tmp_path: Path) -> None:
    out = tmp_path / "out.bin"
    proc = run_cli("fetch", url, "-o", str(out), "--retries", "2")
    _assert_one_line_error(proc, contains=contains)
    assert list(tmp_path.iterdir()) == []


def test_malformed_proxy_is_a_usage_error_not_a_hang(server: MediaServer, tmp_path: Path) -> None:
    out = tmp_path / "out.bin"
    proc = run_cli("fetch", server.url("small.bin"), "-o", str(out), "--proxy", "foo://bar")
    _assert_one_line_error(proc, contains="proxy")
    assert proc.returncode == 2
    assert list(tmp_path.iterdir()) == []


def test_404_via_cli(server: MediaServer, tmp_path: Path) -> None:
    out = tmp_path / "out.bin"
    proc = run_cli("fetch", server.url("nope.mp3"), "-o", str(out))
    _assert_one_line_error(proc, contains="404")
    assert proc.returncode == 4
    assert list(tmp_path.iterdir()) == []


def test_existing_output_needs_force(server: MediaServer, blob_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.bin"
    out.write_bytes(b"keep me")
    proc = run_cli("fetch", server.url("small.bin"), "-o", str(out))
    _assert_one_line_error(proc, contains="already exists")
    assert out.read_bytes() == b"keep me"
    proc = run_cli("fetch", server.url("small.bin"), "-o", str(out), "--force", "-q")
    assert proc.returncode == 0, proc.stderr
    assert sha256(out) == sha256(blob_root / "small.bin")


def test_unwritable_output(server: MediaServer, tmp_path: Path) -> None:
    proc = run_cli("fetch", server.url("small.bin"), "-o", str(tmp_path / "no" / "dir" / "x"))
    _assert_one_line_error(proc, contains="does not exist")
    proc = run_cli("fetch", server.url("small.bin"), "-o", "/sys/kithara-test.bin")
    _assert_one_line_error(proc, contains="cannot")
    assert not Path("/sys/kithara-test.bin").exists()


def _limit_file_size() -> None:
    """A 'full disk' for one process: writes past 1 MB fail (EFBIG) instead of killing it."""
    import resource

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1_000_000, 1_000_000))


def test_full_disk(server: MediaServer, tmp_path: Path) -> None:
    out = tmp_path / "out.bin"
    proc = subprocess.run(
        [*KITHARA, "fetch", server.url("medium.bin"), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_limit_file_size,
        env={**os.environ, "NO_COLOR": "1"},
        stdin=subprocess.DEVNULL,
    )
    _assert_one_line_error(proc, contains="cannot write")
    assert proc.returncode == OutputError.exit_code
    # Nothing at --out; what was written is kept beside it to resume (test_s14_stall_full_disk).
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin.kithara.json", "out.bin.part"]


def test_progress_lines_when_not_a_tty(server: MediaServer, tmp_path: Path) -> None:
    server.set_faults("medium.bin", Faults(rate_total=1_000_000))  # ~3 s: lines every 2 s
    out = tmp_path / "out.bin"
    proc = run_cli("fetch", server.url("medium.bin"), "-o", str(out), "-c", "1")
    assert proc.returncode == 0, proc.stderr
    assert "%" in proc.stderr and "MB/s" in proc.stderr
    assert "\x1b[" not in proc.stderr, "no terminal escapes when stderr is not a TTY"
    quiet = run_cli("fetch", server.url("small.bin"), "-o", str(tmp_path / "q.bin"), "-q")
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_version_and_help() -> None:
    from kithara_cli import __version__

    proc = run_cli("--version")
    assert proc.returncode == 0 and __version__ in proc.stdout
    proc = run_cli("--help")
    for command in ("play", "fetch", "bench"):
        assert command in proc.stdout
    assert sys.executable


def test_a_command_may_ask_for_fewer_attempts_than_the_policy(
    server: MediaServer, tmp_path: Path
) -> None:
    """``FetchCmd.max_attempts`` caps the retries of one command (HLS playback fails over to
    another variant after 2), never raises them above the downloader's policy."""
    server.set_faults("medium.bin", Faults(fail_first=1000, fail_status=503))
    retry = RetryPolicy(max_attempts=4, base=0.01, cap=0.02)
    with Downloader(EventBus(), NetConfig(), retry=retry) as dl:
        outcomes = []
        for cap in (2, None, 9):  # expected requests: 2, then the policy's 4, and 4 again
            before = len(server.stats.requests("medium.bin"))
            sink, _ = memory_sink("medium.bin", 1 << 20, 0)
            cmd = FetchCmd(url=server.url("medium.bin"), sink=sink, end=1000, max_attempts=cap)
            outcomes.append((dl.submit(cmd).result(30), cap))
            assert len(server.stats.requests("medium.bin")) - before == {2: 2, None: 4, 9: 4}[cap]
    assert all(o.state == "failed" for o, _ in outcomes)
