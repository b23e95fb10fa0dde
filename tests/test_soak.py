"""Soak: minutes of playback under random faults, time-warped, in one process; nothing leaks.

The Player plays a long MP3 and a long HLS ladder (AAC in TS, 64k and 128k, 4 s segments) to ``wav:/dev/null``:
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

from kithara_cli.dl import Downloader
from kithara_cli.events import EventBus, event_to_dict
from kithara_cli.media import build_ladder, cached, encode_file
from kithara_cli.net import NetConfig, RetryPolicy
from kithara_cli.play import Player, PlayerSettings
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


def long_mp3() -> Path:
    name = f"soak-{SECONDS:.0f}s-mp3"
    return cached(name, lambda d: encode_file(d / "tone.mp3", SECONDS, "mp3")) / "tone.mp3"


def soak(srv: MediaServer, url: str) -> tuple[list[dict], dict[str, int], dict[str, int], float]:
    """Warm up, count, play the whole stream, count again: (events, before, after, seconds)."""
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
    return events, before, after, took


def check_counts(
    what: str, events: list[dict], before: dict[str, int], after: dict[str, int], took: float
) -> None:
    notices = [e["message"] for e in events if e["event"] == "Notice"]
    failovers = [m for m in notices if "trying v" in m]
    retries = [e for e in events if e["event"] in ("RequestRetrying", "BodyResumed")]
    requests = sum(e["event"] == "RequestStarted" for e in events)
    growth = after["rss_kb"] / before["rss_kb"] - 1
    print(
        f"soak {what}: {SECONDS:.0f} s of audio in {took:.1f} s; {requests} fetch commands, "
        f"{len(retries)} retries/resumes, {len(failovers)} failovers; "
        f"before {before}, after {after}, RSS growth {growth * 100:+.1f} %"
    )
    assert retries, "the faults did not bite"
    for key in ("threads", "sockets", "fds"):
        assert after[key] <= before[key], f"{key}: {before[key]} -> {after[key]}"
    assert growth < RSS_GROWTH, f"RSS {before['rss_kb']} kB -> {after['rss_kb']} kB"


def test_soak_progressive_playback_with_every_response_cut_leaks_nothing() -> None:
    """A long MP3 whose every response closes after 150 KB though its Content-Length promises
    the rest (a wrong length), each after a slow first byte: the file comes in resumed pieces,
    one connection after another."""
    path = long_mp3()
    with MediaServer(path.parent) as srv:
        srv.set_faults("tone.mp3", Faults(close_after=150_000, first_byte_delay=0.02))
        events, before, after, took = soak(srv, srv.url("tone.mp3"))
    check_counts("progressive", events, before, after, took)


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
        events, before, after, took = soak(srv, srv.url("master.m3u8"))
    check_counts(f"HLS ({len(faulty)} faulty segments)", events, before, after, took)
    assert any(e["event"] == "Notice" and "trying v" in e["message"] for e in events)
