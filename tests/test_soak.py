"""Soak: minutes of playback under random faults, time-warped, in one process; nothing leaks.

The Player plays a long HLS ladder (AAC in TS, 64k and 128k, 4 s segments) to ``wav:/dev/null``:
the WAV sink is unpaced (it takes PCM as fast as the decoder makes it), so minutes of audio pass
in seconds. About a third of the segments, on both variants, carry a random fault (RST, clean
close, 503, 429, a slow first byte, a stall past the timeout, a 404 that fails over to the
other variant). Threads, sockets, all fds and RSS are counted after a warm-up playback (PyAV,
the HTTP pools and the allocator's arenas in place) and again after the soak.

CI plays 2 minutes of audio; ``KITHARA_SOAK_FULL=1`` plays 10 (a ladder built once per user
into the media cache).
"""

from __future__ import annotations

import gc
import os
import random
import threading
import time
from pathlib import Path

from kithara_cli.commands.player import Player, PlayerSettings
from kithara_cli.dl import Downloader
from kithara_cli.events import EventBus, event_to_dict
from kithara_cli.media import build_ladder, cached
from kithara_cli.net import NetConfig, RetryPolicy
from kithara_cli.server import Faults, MediaServer

FULL = os.environ.get("KITHARA_SOAK_FULL") == "1"
SECONDS = 600.0 if FULL else 120.0
SEGMENT = 4.0
SEED = 1415
TIMEOUT = 0.5
RSS_GROWTH = 0.10

FAULTS = [
    Faults(reset_after=20_000, faults_times=1),
    Faults(close_after=20_000, faults_times=1),
    Faults(fail_first=1, fail_status=503, retry_after=0),
    Faults(fail_first=1, fail_status=429, retry_after=0),
    Faults(first_byte_delay=0.2),
    Faults(stall_after=10_000, stall_seconds=1.0, faults_times=1),
    Faults(fail_first=1000, fail_status=404),  # gone from this variant: fail over
]


def ladder() -> Path:
    name = f"soak-{SECONDS:.0f}s-64k-128k-ts-{SEGMENT:.0f}s"
    return cached(
        name,
        lambda d: build_ladder(d, SECONDS, bitrates=(64_000, 128_000), segment_seconds=SEGMENT),
    )


def counts() -> dict[str, int]:
    """Threads, sockets and fds of this process, and its RSS in kB."""
    fds = sockets = 0
    for entry in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{entry}")
        except OSError:  # the listing's own fd, closed by now
            continue
        fds += 1
        sockets += target.startswith("socket:")
    rss = 0
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    return {"threads": threading.active_count(), "sockets": sockets, "fds": fds, "rss_kb": rss}


def settled(baseline: dict[str, int], timeout: float = 5.0) -> dict[str, int]:
    """Counts once threads, sockets and fds are back to the baseline (closing takes a moment:
    the server's side of a connection ends after the client's), or as they are at the end."""
    deadline = time.monotonic() + timeout
    while True:
        gc.collect()
        now = counts()
        back = all(now[k] <= baseline[k] for k in ("threads", "sockets", "fds"))
        if back or time.monotonic() > deadline:
            return now
        time.sleep(0.05)


def play(url: str, length: float | None = None) -> tuple[BaseException | None, list[dict]]:
    bus = EventBus()
    seen: list[dict] = []
    bus.subscribe(
        lambda e: (
            seen.append(event_to_dict(e))
            if type(e).__name__ not in ("RequestProgress", "Position", "BufferLevel")
            else None
        )
    )
    net = NetConfig(read_timeout=TIMEOUT, connect_timeout=TIMEOUT)
    retry = RetryPolicy(max_attempts=4, base=0.01, cap=0.05)
    error: BaseException | None = None
    with Downloader(bus, net, max_concurrent=4, retry=retry) as dl:
        player = Player(bus, PlayerSettings(output="wav:/dev/null", length=length), dl)
        try:
            player.open(url)
            if not player.wait(SECONDS):
                error = AssertionError("playback did not end")
        except BaseException as exc:
            error = exc
        finally:
            player.close()
        error = error or player.error
    return error, seen


def test_soak_playback_under_random_faults_leaks_nothing() -> None:
    root = ladder()
    rng = random.Random(SEED)
    segments = sorted(root.glob("*k_*.ts"))
    faulty = rng.sample(segments, len(segments) // 3)
    with MediaServer(root) as srv:
        for path in faulty:
            fault = rng.choice(FAULTS)
            other = path.name.replace("128k_", "64k_") if "128k_" in path.name else None
            if fault.fail_status == 404 and other is not None and Path(root / other) in faulty:
                fault = FAULTS[2]  # never the same segment gone from both variants
            srv.set_faults(path.name, fault)
        url = srv.url("master.m3u8")
        error, _ = play(url, length=5.0)  # warm-up: imports, pools, arenas
        assert error is None, error
        before = settled(counts(), timeout=1.0)
        t0 = time.monotonic()
        error, events = play(url)
        took = time.monotonic() - t0
        after = settled(before)
    assert error is None, repr(error)
    end = [e for e in events if e["event"] == "EndOfStream"]
    assert end and abs(end[0]["position"] - SECONDS) < SEGMENT, end
    notices = [e["message"] for e in events if e["event"] == "Notice"]
    failovers = [m for m in notices if "trying v" in m]
    retries = [e for e in events if e["event"] in ("RequestRetrying", "BodyResumed")]
    growth = after["rss_kb"] / before["rss_kb"] - 1
    print(
        f"soak: {SECONDS:.0f} s of audio in {took:.1f} s; {len(faulty)} faulty segments, "
        f"{len(retries)} retries/resumes, {len(failovers)} failovers; "
        f"before {before}, after {after}, RSS growth {growth * 100:+.1f} %"
    )
    assert retries and failovers, "the faults did not bite"
    for key in ("threads", "sockets", "fds"):
        assert after[key] <= before[key], f"{key}: {before[key]} -> {after[key]}"
    assert growth < RSS_GROWTH, f"RSS {before['rss_kb']} kB -> {after['rss_kb']} kB"
