"""The process around the work: one writer per output, signals end any wait, local faults.

Every case runs the real CLI in a subprocess against the loopback server, slowed where the
case needs it (a first byte 30 s late, a body at 1 byte/s), and signals it at a seeded random
moment once the slow request is on the wire.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import hls_fixtures
from conftest import KITHARA
from hls_fixtures import HlsMedia, expected_bytes, fetch, popen_fetch, wait_for
from kithara_cli.errors import OutputBusyError
from kithara_cli.file.lock import OutputLock, lock_path
from kithara_cli.file.state import part_paths
from kithara_cli.server import Faults, MediaServer

hls_media = hls_fixtures.hls_media
hls_server = hls_fixtures.hls_server

BEST = 1
EXIT_BY_SIGNAL = {signal.SIGINT: 130, signal.SIGTERM: 143}
SLOW = Faults(first_byte_delay=30.0)  # headers now, the body in 30 s
TRICKLE = Faults(rate_per_conn=1.0)  # 1 byte/s: never stalls, never finishes


def leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(out.name + "."))


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("kithara: error: ")]


def popen_play(url: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100", "KITHARA_AUDIO_DEVICE": "none"}
    return subprocess.Popen(
        [*KITHARA, "play", url, "--no-ui", "--output", "null", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def signal_and_time(proc: subprocess.Popen[str], sig: int) -> tuple[float, str]:
    """Send ``sig``; (seconds until the process had exited, its stderr)."""
    sent = time.monotonic()
    proc.send_signal(sig)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        raise AssertionError(f"still running 10 s after signal {sig}: {err}") from None
    took = time.monotonic() - sent
    _, err = proc.communicate(timeout=5)
    return took, err


def assert_clean_signal_exit(took: float, proc: subprocess.Popen[str], err: str, sig: int) -> None:
    # Idle, an exit takes 0.1-0.3 s; what fails is waiting out the fault (30 s, or forever).
    # 3 s leaves room for a loaded 2-core machine (2.08 s seen once at load 6).
    assert took < 3.0, f"exit took {took:.2f} s after the signal"
    assert proc.returncode == EXIT_BY_SIGNAL[sig], err
    assert "Traceback" not in err, err
    assert len(error_lines(err)) == 1, err
    assert "interrupted" in error_lines(err)[0]


# --- one writer per output ---------------------------------------------------------------------


def test_lock_is_exclusive_and_a_left_lock_file_is_taken_over(tmp_path: Path) -> None:
    out = tmp_path / "out.bin"
    lock_path(out).write_text("999999\n")  # left by a run killed with -9: nobody holds it
    with OutputLock(out):
        assert lock_path(out).read_text() == f"{os.getpid()}\n"
        with pytest.raises(OutputBusyError) as info:
            OutputLock(out).acquire()  # another open file description: flock conflicts
        assert f"(pid {os.getpid()})" in str(info.value)
        assert info.value.exit_code == 6
    assert not lock_path(out).exists()
    with OutputLock(out):  # free again
        pass


@dataclass(frozen=True)
class Race:
    first: str  # "progressive" or "hls": what the first (slow) fetch downloads
    second: str  # what the second one asks for, to the same --out


@pytest.mark.parametrize(
    "race",
    [
        Race("progressive", "progressive"),  # same URL: was a FileNotFoundError traceback
        Race("progressive", "hls"),  # different URLs: was "saved", exit 0, over the other's
        Race("hls", "hls"),  # was a stale state file
        Race("hls", "progressive"),
    ],
    ids=lambda r: f"{r.first}-then-{r.second}",
)
def test_second_fetch_to_one_out_fails_and_leaves_the_first_intact(
    race: Race,
    server: MediaServer,
    blob_root: Path,
    hls_media: HlsMedia,
    hls_server: MediaServer,
    tmp_path: Path,
) -> None:
    urls = {"progressive": server.url("medium.bin"), "hls": hls_server.url("ts/master.m3u8")}
    expected = {
        "progressive": (blob_root / "medium.bin").read_bytes(),
        "hls": expected_bytes(hls_media.ts, BEST),
    }
    server.set_faults("medium.bin", Faults(rate_total=1_000_000))  # about 3 s
    hls_server.set_faults("ts/*.ts", Faults(latency=0.25))  # about 3 s
    out = tmp_path / "out.bin"
    first = popen_fetch(urls[race.first], "-o", str(out), "-q", "--segments", "1")
    try:
        wait_for(lambda: part_paths(out)[0].exists(), what="the first fetch writing")
        second = fetch(urls[race.second], "-o", str(out), "-q", timeout=30)
        busy = [line for line in second.stderr.splitlines() if line.strip()]
        assert second.returncode == 6, second.stderr
        assert busy == [
            f"kithara: error: {out} is being written by another kithara (pid {first.pid})"
        ]
        _, err = first.communicate(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 0, err
    assert out.read_bytes() == expected[race.first]
    assert leftovers(out) == [], "no .part, state or lock file left"


def test_after_the_first_finishes_a_second_without_force_is_refused(
    server: MediaServer, tmp_path: Path
) -> None:
    """The --out check is repeated under the lock: a run that waited cannot overwrite."""
    out = tmp_path / "out.bin"
    assert fetch(server.url("small.bin"), "-o", str(out), "-q").returncode == 0
    again = fetch(server.url("medium.bin"), "-o", str(out), "-q")
    assert again.returncode == 6 and "already exists" in again.stderr
    assert leftovers(out) == []


def test_a_failed_fetch_removes_its_state(hls_server: MediaServer, tmp_path: Path) -> None:
    hls_server.set_faults("ts/128k_00004.ts", Faults(fail_first=10**6, fail_status=404))
    out = tmp_path / "out.ts"
    proc = fetch(hls_server.url("ts/master.m3u8"), "-o", str(out), "-q")
    assert proc.returncode == 4, proc.stderr
    assert not out.exists() and leftovers(out) == []


# --- signals -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slow:
    name: str
    command: str  # "fetch" or "play"
    url: str  # path on the server ("blob:" prefix: the blob server)
    pattern: str  # the route that is slowed
    faults: Faults
    waits_for: str  # the path whose request must be on the wire before the signal


SLOW_CASES = [
    Slow("fetch-progressive-first-byte", "fetch", "blob:big.bin", "big.bin", SLOW, "big.bin"),
    Slow("fetch-progressive-trickle", "fetch", "blob:big.bin", "big.bin", TRICKLE, "big.bin"),
    Slow("fetch-playlist", "fetch", "ts/master.m3u8", "ts/master.m3u8", SLOW, "ts/master.m3u8"),
    Slow("fetch-media-playlist", "fetch", "ts/master.m3u8", "ts/128k.m3u8", SLOW, "ts/128k.m3u8"),
    Slow("fetch-key", "fetch", "aes/master.m3u8", "aes/key.bin", SLOW, "aes/key.bin"),
    Slow("fetch-init", "fetch", "fmp4/master.m3u8", "fmp4/*_init.mp4", SLOW, "fmp4/*_init.mp4"),
    Slow("fetch-segment-trickle", "fetch", "ts/master.m3u8", "ts/*.ts", TRICKLE, "ts/*.ts"),
    Slow("play-playlist", "play", "ts/master.m3u8", "ts/master.m3u8", SLOW, "ts/master.m3u8"),
    Slow("play-key", "play", "aes/master.m3u8", "aes/key.bin", SLOW, "aes/key.bin"),
    Slow("play-init", "play", "fmp4/master.m3u8", "fmp4/*_init.mp4", SLOW, "fmp4/*_init.mp4"),
    Slow("play-segment-trickle", "play", "ts/master.m3u8", "ts/*.ts", TRICKLE, "ts/*.ts"),
    Slow("play-progressive-trickle", "play", "blob:big.bin", "big.bin", TRICKLE, "big.bin"),
]


@pytest.fixture
def both_servers(server: MediaServer, hls_server: MediaServer) -> Iterator[dict[str, MediaServer]]:
    yield {"blob": server, "hls": hls_server}


def _requested(srv: MediaServer, pattern: str) -> bool:
    import fnmatch

    return any(fnmatch.fnmatchcase(r.path, pattern) for r in srv.stats.requests())


@pytest.mark.parametrize("case", SLOW_CASES, ids=lambda c: c.name)
def test_a_signal_ends_any_wait_at_once(
    case: Slow,
    both_servers: dict[str, MediaServer],
    hls_media: HlsMedia,
    blob_root: Path,
    tmp_path: Path,
) -> None:
    rng = random.Random(f"signals-{case.name}")
    sig = rng.choice([signal.SIGINT, signal.SIGTERM])
    delay = rng.uniform(0.0, 0.8)
    is_blob = case.url.startswith("blob:")
    srv = both_servers["blob" if is_blob else "hls"]
    url = srv.url(case.url.removeprefix("blob:"))
    srv.set_faults(case.pattern, case.faults)
    kind = "blob" if is_blob else case.url.split("/")[0]
    out = tmp_path / {"blob": "out.bin", "fmp4": "out.m4a"}.get(kind, "out.ts")
    fetching = case.command == "fetch"
    proc = popen_fetch(url, "-o", str(out), "-q") if fetching else popen_play(url)
    try:
        wait_for(lambda: _requested(srv, case.waits_for), what=f"a request for {case.waits_for}")
        time.sleep(delay)
        assert proc.poll() is None, proc.communicate()[1]
        took, err = signal_and_time(proc, sig)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert_clean_signal_exit(took, proc, err, sig)
    if case.command == "play":
        return
    assert len([line for line in err.splitlines() if line.strip()]) == 1, err
    assert not out.exists(), "nothing at --out before the download is whole"
    srv.clear_faults()
    rerun = fetch(url, "-o", str(out), "-q")
    assert rerun.returncode == 0, rerun.stderr
    if is_blob:
        want = (blob_root / "big.bin").read_bytes()
    else:
        want = expected_bytes(getattr(hls_media, kind), BEST)
    assert out.read_bytes() == want
    assert leftovers(out) == []


def test_the_terminal_is_restored_when_play_is_killed(hls_server: MediaServer) -> None:
    """The dashboard puts the terminal in cbreak mode; SIGTERM must undo that on the way out."""
    import pty
    import select
    import termios

    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)
    env = {**os.environ, "COLUMNS": "100", "TERM": "xterm", "KITHARA_AUDIO_DEVICE": "none"}
    env.pop("NO_COLOR", None)
    hls_server.set_faults("ts/*.ts", TRICKLE)  # stays in its waits: buffering for ever
    proc = subprocess.Popen(
        [*KITHARA, "play", hls_server.url("ts/master.m3u8"), "--output", "null"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
    )
    seen = bytearray()

    def drain(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    seen.extend(os.read(master, 65536))
                except OSError:
                    return

    try:
        deadline = time.monotonic() + 20
        while termios.tcgetattr(slave)[3] == before[3] and time.monotonic() < deadline:
            drain(0.1)  # until the key reader has switched the terminal to cbreak
        assert termios.tcgetattr(slave)[3] != before[3], "the key reader never started"
        drain(0.5)
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        while proc.poll() is None and time.monotonic() - sent < 10:
            drain(0.05)
        took = time.monotonic() - sent
        drain(0.2)
        assert proc.returncode == 143, seen.decode(errors="replace")[-2000:]
        assert took < 1.0, f"{took:.2f} s"
        assert termios.tcgetattr(slave) == before, "terminal left in the dashboard's mode"
        assert b"Traceback" not in seen
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
        os.close(slave)


# --- local faults ------------------------------------------------------------------------------


def _play(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return hls_fixtures.play(url, *args, timeout=30)


def test_play_to_a_full_disk_stops_with_one_line(hls_server: MediaServer) -> None:
    started = time.monotonic()
    proc = _play(hls_server.url("ts/master.m3u8"), "--output", "wav:/dev/full")
    took = time.monotonic() - started
    assert proc.returncode == 6, proc.stderr
    assert error_lines(proc.stderr) == [
        "kithara: error: cannot write wav:/dev/full: No space left on device"
    ]
    assert "Traceback" not in proc.stderr
    assert took < 10, f"{took:.1f} s (the stream is 20 s: it must not play to the end)"


def test_play_with_events_on_a_full_disk_stops_with_one_line(hls_server: MediaServer) -> None:
    started = time.monotonic()
    proc = _play(hls_server.url("ts/master.m3u8"), "--output", "null", "--events", "/dev/full")
    took = time.monotonic() - started
    assert proc.returncode == 6, proc.stderr
    assert error_lines(proc.stderr) == [
        "kithara: error: cannot write events to /dev/full: No space left on device"
    ]
    assert "Traceback" not in proc.stderr
    assert took < 10, f"{took:.1f} s"


def test_fetch_with_events_on_a_full_disk_keeps_the_file_and_exits_6(
    server: MediaServer, blob_root: Path, tmp_path: Path
) -> None:
    """Documented: the download completes (it is whole), then the lost events fail the run."""
    out = tmp_path / "out.bin"
    proc = fetch(server.url("medium.bin"), "-o", str(out), "-q", "--events", "/dev/full")
    assert proc.returncode == 6, proc.stderr
    assert [line for line in proc.stderr.splitlines() if line.strip()] == [
        "kithara: error: cannot write events to /dev/full: No space left on device"
    ]
    assert out.read_bytes() == (blob_root / "medium.bin").read_bytes()
    assert leftovers(out) == []


def test_a_cancel_right_after_submit_always_completes(server: MediaServer) -> None:
    """A task cancelled before its first step never ran the downloader's own code: its
    outcome must still come (it held a progressive fetch's Ctrl-C for 5 s, 8 times in 200)."""
    import concurrent.futures

    from kithara_cli.dl import Downloader, FetchCmd
    from kithara_cli.events import EventBus

    server.set_faults("big.bin", TRICKLE)
    stuck = 0
    with Downloader(EventBus(), max_concurrent=8) as dl:
        for _ in range(200):
            handle = dl.submit(FetchCmd(url=server.url("big.bin"), sink=lambda o, d: None))
            handle.cancel("user")
            try:
                outcome = handle.result(timeout=2)
            except concurrent.futures.TimeoutError:
                stuck += 1
                continue
            assert outcome.state == "cancelled"
    assert stuck == 0, f"{stuck} of 200 cancelled commands never completed"


_WAITER = """
import concurrent.futures, os, signal, sys, threading, time
from kithara_cli import interrupt

interrupt.install()
kind = sys.argv[1]
threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGTERM)).start()
started = time.monotonic()
try:
    if kind == "wait":
        interrupt.wait(threading.Event())
    elif kind == "result":
        interrupt.result(concurrent.futures.Future())
    else:
        blocker = threading.Thread(target=time.sleep, args=(30,), daemon=True)
        blocker.start()
        interrupt.join(blocker)
except KeyboardInterrupt:
    error = interrupt.as_error()
    print(type(error).__name__, error.exit_code, round(time.monotonic() - started, 2))
"""


@pytest.mark.parametrize("kind", ["wait", "result", "join"])
def test_interrupt_waits_wake_on_sigterm(kind: str) -> None:
    """The primitives every blocking wait goes through: a bare Event.wait(), Future.result()
    or Thread.join() would sleep on after the flag-only handler returned."""
    proc = subprocess.run(
        [*KITHARA[:1], "-c", _WAITER, kind], capture_output=True, text=True, timeout=20
    )
    name, code, seconds = proc.stdout.split()
    assert (name, code) == ("Terminated", "143"), proc.stderr
    assert 0.3 <= float(seconds) < 0.3 + 0.5, seconds
